// TFJob (kubeflow.org/v1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <string_view>

#include "kinds/kind_hooks.h"

namespace kubedl::api::kinds {
namespace {

constexpr std::array<std::string_view, 5> kReplicaTypes = {"PS", "Master", "Chief", "Worker",
                                                           "Evaluator"};
constexpr std::array<std::string_view, 1> kContainers = {"tensorflow"};

// spec.successPolicy, spec.enableDynamicWorker.
constexpr auto kSpecFields = [](auto&& v, auto& spec) {
  v("successPolicy", spec.success_policy), v("enableDynamicWorker", spec.enable_dynamic_worker);
};

void Default(Job& job) {
  if (!job.spec.success_policy) job.spec.success_policy = "";
}

// At most one of Chief and Master, each of at most one replica; successPolicy "" or AllWorkers.
void Validate(internal::KindValidation& v) {
  const Job& job = v.job();
  const Replica* chief = job.FindReplica("Chief");
  const Replica* master = job.FindReplica("Master");
  if (chief != nullptr && master != nullptr) {
    v.Add(Forbidden(v.MapPath(), "at most one of Chief and Master may be specified"));
  }
  for (const Replica* r : {chief, master}) {
    if (r != nullptr && r->spec.replicas.value_or(1) > 1) {
      v.Add(Invalid(v.ReplicaPath(r->type) + ".replicas", *r->spec.replicas,
                    "must be less than or equal to 1"));
    }
  }
  v.OneOf(job.spec.success_policy, "spec.successPolicy", {"", "AllWorkers"});
}

constexpr KindHooks kHooks = HooksWithSpecFields<decltype(kSpecFields)>(&Default, &Validate);

}  // namespace

KindDescriptor TFJob() {
  // kind, name, group, version, apiVersion, plural, short name, replica map key, replica types,
  // container (and accepted names), port name and number, restartPolicy and cleanPodPolicy
  // defaults, hooks.
  return {JobKind::kTFJob, "TFJob", "kubeflow.org", "v1", "kubeflow.org/v1", "tfjobs", "tfjob",
          "tfReplicaSpecs", kReplicaTypes, "tensorflow", kContainers, "tfjob-port", 2222, "Never",
          "None", &kHooks};
}

}  // namespace kubedl::api::kinds
