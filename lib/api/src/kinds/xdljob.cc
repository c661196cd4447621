// XDLJob (xdl.kubedl.io/v1alpha1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <string_view>

#include "kinds/kind_hooks.h"

namespace kubedl::api::kinds {
namespace {

constexpr std::array<std::string_view, 4> kReplicaTypes = {"PS", "Scheduler", "Worker",
                                                           "ExtendRole"};
constexpr std::array<std::string_view, 1> kContainers = {"xdl"};

// spec.minFinishWorkNum, spec.minFinishWorkRate.
constexpr auto kSpecFields = [](auto&& v, auto& spec) {
  v("minFinishWorkNum", spec.min_finish_work_num),
      v("minFinishWorkRate", spec.min_finish_work_rate);
};

// backoffLimit 20; without either finish rule, 90 % of the workers.
void Default(Job& job) {
  RunPolicy& run_policy = *job.spec.run_policy;
  if (!run_policy.backoff_limit) run_policy.backoff_limit = 20;
  if (!job.spec.min_finish_work_num && !job.spec.min_finish_work_rate) {
    job.spec.min_finish_work_rate = 90;
  }
}

void Validate(internal::KindValidation& v) {
  const JobSpec& spec = v.job().spec;
  v.NonNegative(spec.min_finish_work_num, "spec.minFinishWorkNum");
  if (const auto& rate = spec.min_finish_work_rate; rate && (*rate < 1 || *rate > 100)) {
    v.Add(Invalid("spec.minFinishWorkRate", *rate, "must be between 1 and 100, inclusive"));
  }
}

constexpr KindHooks kHooks = HooksWithSpecFields<decltype(kSpecFields)>(&Default, &Validate);

}  // namespace

KindDescriptor XDLJob() {
  // The fields in KindDescriptor's order.
  return {JobKind::kXDLJob, "XDLJob", "xdl.kubedl.io", "v1alpha1", "xdl.kubedl.io/v1alpha1",
          "xdljobs", "xdljob", "xdlReplicaSpecs", kReplicaTypes, "xdl", kContainers,
          "xdljob-port", 2222, "Never", "Running", &kHooks};
}

}  // namespace kubedl::api::kinds
