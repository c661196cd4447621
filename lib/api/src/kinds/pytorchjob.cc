// PyTorchJob (kubeflow.org/v1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <string_view>

#include "absl/strings/numbers.h"
#include "kinds/elastic_policy.h"
#include "kinds/kind_hooks.h"

namespace kubedl::api::kinds {
namespace {

constexpr std::array<std::string_view, 2> kReplicaTypes = {"Master", "Worker"};
constexpr std::array<std::string_view, 1> kContainers = {"pytorch"};

// spec.nprocPerNode, spec.elasticPolicy.
constexpr auto kSpecFields = [](auto&& v, auto& spec) {
  v("nprocPerNode", spec.nproc_per_node), v("elasticPolicy", spec.elastic_policy);
};

// nprocPerNode "auto"; an elastic policy's missing bound is the other one, else the Workers.
void Default(Job& job) {
  if (!job.spec.nproc_per_node) job.spec.nproc_per_node = "auto";
  DefaultElasticBounds(job);
}

// The bounds, maxRestarts and metrics (shared with PaddleJob), then the rdzv keys.
void ValidateElasticPolicy(internal::KindValidation& v, const ElasticPolicy& ep,
                           const Replica* worker) {
  if (worker == nullptr) {
    v.Add(Required(v.ReplicaPath("Worker"), "elasticPolicy needs a Worker replica"));
  }
  ValidateElasticBounds(v, ep);
  v.OneOf(ep.rdzv_backend, "spec.elasticPolicy.rdzvBackend", {"c10d", "etcd", "etcd-v2"});
  if (ep.rdzv_port && (*ep.rdzv_port < 1 || *ep.rdzv_port > 65535)) {
    v.Add(Invalid("spec.elasticPolicy.rdzvPort", *ep.rdzv_port,
                  "must be between 1 and 65535, inclusive"));
  }
  for (size_t i = 0; i < ep.rdzv_conf.size(); ++i) {
    if (ep.rdzv_conf[i].key.empty()) {
      v.Add(Required("spec.elasticPolicy.rdzvConf[" + std::to_string(i) + "].key"));
    }
  }
}

// An optional Master of one replica, at least one Worker, nprocPerNode, the elastic policy.
void Validate(internal::KindValidation& v) {
  v.MasterWorker(/*master_required=*/false);
  const Job& job = v.job();
  const Replica* worker = job.FindReplica("Worker");
  if (worker != nullptr && worker->spec.replicas.value_or(1) < 1) {
    v.Add(Invalid(v.ReplicaPath("Worker") + ".replicas", *worker->spec.replicas,
                  "must be greater than or equal to 1"));
  }
  if (const auto& n = job.spec.nproc_per_node) {
    int64_t count = 0;
    bool ok = *n == "auto" || *n == "cpu" || *n == "gpu" ||
              (absl::SimpleAtoi(*n, &count) && count >= 1);
    if (!ok) {
      v.Add(Invalid("spec.nprocPerNode", *n,
                    "must be \"auto\", \"cpu\", \"gpu\" or a positive integer"));
    }
  }
  if (job.spec.elastic_policy) ValidateElasticPolicy(v, *job.spec.elastic_policy, worker);
}

constexpr KindHooks kHooks = HooksWithSpecFields<decltype(kSpecFields)>(&Default, &Validate);

}  // namespace

KindDescriptor PyTorchJob() {
  // The fields in KindDescriptor's order.
  return {JobKind::kPyTorchJob, "PyTorchJob", "kubeflow.org", "v1", "kubeflow.org/v1",
          "pytorchjobs", "pytorchjob", "pytorchReplicaSpecs", kReplicaTypes, "pytorch",
          kContainers, "pytorchjob-port", 23456, "OnFailure", "None", &kHooks};
}

}  // namespace kubedl::api::kinds
