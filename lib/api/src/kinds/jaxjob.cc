// JAXJob (kubeflow.org/v1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <string_view>

#include "kinds/kind_hooks.h"

namespace kubedl::api::kinds {
namespace {

constexpr std::array<std::string_view, 1> kReplicaTypes = {"Worker"};
constexpr std::array<std::string_view, 1> kContainers = {"jax"};

// The Workers are the whole job: none would succeed at once. (Only Worker keys, the container,
// the runPolicy: the common checks.)
void Validate(internal::KindValidation& v) {
  const Replica* worker = v.job().FindReplica("Worker");
  if (worker != nullptr && worker->spec.replicas == 0) {  // negative: the common check
    v.Add(Invalid(v.ReplicaPath("Worker") + ".replicas", *worker->spec.replicas,
                  "must be greater than or equal to 1"));
  }
}

constexpr KindHooks kHooks = {.validate = &Validate};

}  // namespace

KindDescriptor JAXJob() {
  // The fields in KindDescriptor's order; no short name.
  return {JobKind::kJAXJob, "JAXJob", "kubeflow.org", "v1", "kubeflow.org/v1", "jaxjobs", "",
          "jaxReplicaSpecs", kReplicaTypes, "jax", kContainers, "jaxjob-port", 6666, "Never",
          "None", &kHooks};
}

}  // namespace kubedl::api::kinds
