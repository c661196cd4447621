// PyTorchJob (kubeflow.org/v1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <string_view>

#include "absl/strings/numbers.h"
#include "kinds/kind_hooks.h"

namespace kubedl::api {

// spec.elasticPolicy (PyTorch's alone) and its rdzvConf items: each list, in JSON order, serves
// both the codec's reader and its writer.
template <>
struct internal::JsonFields<ElasticPolicy> {
  template <class V, class S>
  static void Visit(V&& v, S& p) {
    v("minReplicas", p.min_replicas), v("maxReplicas", p.max_replicas),
        v("rdzvBackend", p.rdzv_backend), v("rdzvPort", p.rdzv_port), v("rdzvHost", p.rdzv_host),
        v("rdzvId", p.rdzv_id), v("rdzvConf", p.rdzv_conf), v("standalone", p.standalone),
        v("maxRestarts", p.max_restarts);
  }
};

template <>
struct internal::JsonFields<RdzvConf> {
  template <class V, class S>
  static void Visit(V&& v, S& c) {
    v("key", c.key), v("value", c.value);
  }
};

namespace kinds {
namespace {

constexpr std::array<std::string_view, 2> kReplicaTypes = {"Master", "Worker"};
constexpr std::array<std::string_view, 1> kContainers = {"pytorch"};

// spec.nprocPerNode, spec.elasticPolicy.
constexpr auto kSpecFields = [](auto&& v, auto& spec) {
  v("nprocPerNode", spec.nproc_per_node), v("elasticPolicy", spec.elastic_policy);
};

// nprocPerNode "auto"; an elastic policy's missing bound is the other one, else the Workers.
void Default(Job& job) {
  JobSpec& spec = job.spec;
  if (!spec.nproc_per_node) spec.nproc_per_node = "auto";
  if (!spec.elastic_policy) return;
  ElasticPolicy& ep = *spec.elastic_policy;
  if (!ep.min_replicas && ep.max_replicas) ep.min_replicas = ep.max_replicas;
  if (!ep.max_replicas && ep.min_replicas) ep.max_replicas = ep.min_replicas;
  const Replica* worker = job.FindReplica("Worker");
  if (!ep.min_replicas && !ep.max_replicas && worker != nullptr) {
    ep.min_replicas = ep.max_replicas = worker->spec.replicas;
  }
}

void ValidateElasticPolicy(internal::KindValidation& v, const ElasticPolicy& ep,
                           const Replica* worker) {
  if (worker == nullptr) {
    v.Add(Required(v.ReplicaPath("Worker"), "elasticPolicy needs a Worker replica"));
  }
  if (ep.min_replicas && *ep.min_replicas < 1) {
    v.Add(Invalid("spec.elasticPolicy.minReplicas", *ep.min_replicas,
                  "must be greater than or equal to 1"));
  }
  if (ep.min_replicas && ep.max_replicas && *ep.max_replicas < *ep.min_replicas) {
    v.Add(Invalid("spec.elasticPolicy.maxReplicas", *ep.max_replicas,
                  "must be greater than or equal to minReplicas"));
  }
  v.OneOf(ep.rdzv_backend, "spec.elasticPolicy.rdzvBackend", {"c10d", "etcd", "etcd-v2"});
  if (ep.rdzv_port && (*ep.rdzv_port < 1 || *ep.rdzv_port > 65535)) {
    v.Add(Invalid("spec.elasticPolicy.rdzvPort", *ep.rdzv_port,
                  "must be between 1 and 65535, inclusive"));
  }
  v.NonNegative(ep.max_restarts, "spec.elasticPolicy.maxRestarts");
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

}  // namespace kinds
}  // namespace kubedl::api
