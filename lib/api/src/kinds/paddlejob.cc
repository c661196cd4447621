// PaddleJob (kubeflow.org/v1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <string_view>

#include "kinds/elastic_policy.h"
#include "kinds/kind_hooks.h"

namespace kubedl::api::kinds {
namespace {

// With a Master the job runs in parameter-server mode; without, in collective mode.
constexpr std::array<std::string_view, 2> kReplicaTypes = {"Master", "Worker"};
constexpr std::array<std::string_view, 1> kContainers = {"paddle"};

// spec.elasticPolicy (PyTorch's struct; Paddle's keys are a subset of it).
constexpr auto kSpecFields = [](auto&& v, auto& spec) { v("elasticPolicy", spec.elastic_policy); };

// In collective mode the Workers are the whole job: none would succeed at once.
void ValidateWorkers(internal::KindValidation& v) {
  const Replica* worker = v.job().FindReplica("Worker");
  if (worker == nullptr || v.job().FindReplica("Master") != nullptr) return;
  if (worker->spec.replicas == 0) {  // a negative count is the common check's
    v.Add(Invalid(v.ReplicaPath("Worker") + ".replicas", *worker->spec.replicas,
                  "must be greater than or equal to 1 when there is no Master"));
  }
}

// Worker replicas >= 1 without a Master; an elastic policy scales Workers, so it needs some.
void Validate(internal::KindValidation& v) {
  ValidateWorkers(v);
  const auto& policy = v.job().spec.elastic_policy;
  if (!policy) return;
  if (v.job().FindReplica("Worker") == nullptr) {
    v.Add(Forbidden("spec.elasticPolicy",
                    "needs a Worker replica in " + v.ReplicaPath("Worker")));
  }
  ValidateElasticBounds(v, *policy);
}

constexpr KindHooks kHooks =
    HooksWithSpecFields<decltype(kSpecFields)>(&DefaultElasticBounds, &Validate);

}  // namespace

KindDescriptor PaddleJob() {
  // The fields in KindDescriptor's order; no short name.
  return {JobKind::kPaddleJob, "PaddleJob", "kubeflow.org", "v1", "kubeflow.org/v1",
          "paddlejobs", "", "paddleReplicaSpecs", kReplicaTypes, "paddle", kContainers,
          "master", 36543, "OnFailure", "None", &kHooks};
}

}  // namespace kubedl::api::kinds
