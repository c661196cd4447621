// XGBoostJob (kubeflow.org/v1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <string_view>

#include "kinds/kind_hooks.h"

namespace kubedl::api::kinds {
namespace {

constexpr std::array<std::string_view, 2> kReplicaTypes = {"Master", "Worker"};
// "xgboostjob": the container name of older operators' examples, still accepted.
constexpr std::array<std::string_view, 2> kContainers = {"xgboost", "xgboostjob"};

// A Master of one replica. No keys of its own under spec, no defaults of its own.
void Validate(internal::KindValidation& v) { v.MasterWorker(/*master_required=*/true); }

constexpr KindHooks kHooks = {.validate = &Validate};

}  // namespace

KindDescriptor XGBoostJob() {
  // The fields in KindDescriptor's order.
  return {JobKind::kXGBoostJob, "XGBoostJob", "kubeflow.org", "v1", "kubeflow.org/v1",
          "xgboostjobs", "xgbjob", "xgbReplicaSpecs", kReplicaTypes, "xgboost", kContainers,
          "xgboostjob-port", 9999, "Never", "None", &kHooks};
}

}  // namespace kubedl::api::kinds
