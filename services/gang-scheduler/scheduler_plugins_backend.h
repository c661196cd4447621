#pragma once

#include <string>

#include "gang_backend.h"

namespace kubedl::gang {

// scheduling.x-k8s.io/v1alpha1 PodGroups of the scheduler-plugins coscheduling plugin. The
// plugin holds pods at its Permit stage until minMember can start, so pods are created at once.
class SchedulerPluginsBackend final : public GangBackend {
 public:
  explicit SchedulerPluginsBackend(std::string scheduler_name)
      : scheduler_name_(std::move(scheduler_name)) {}
  absl::string_view Name() const override { return "scheduler-plugins"; }
  const kube::ResourceRef& PodGroupResource() const override;
  std::span<const absl::string_view> SpecKeys() const override;
  nlohmann::json DesiredSpec(const v1::EnsureGangRequest& request,
                             const kube::ResourceList& min_resources) const override;
  v1::BindPodResponse Binding(const v1::BindPodRequest& request) const override;
  v1::Gang::Phase Admission(const nlohmann::json& pod_group) const override;

 private:
  std::string scheduler_name_;
};

}  // namespace kubedl::gang
