#include "scheduler_plugins_backend.h"

#include <array>

namespace kubedl::gang {

std::span<const absl::string_view> SchedulerPluginsBackend::SpecKeys() const {
  static constexpr std::array<absl::string_view, 3> kKeys = {"minMember", "minResources",
                                                             "scheduleTimeoutSeconds"};
  return kKeys;
}

const kube::ResourceRef& SchedulerPluginsBackend::PodGroupResource() const {
  static const kube::ResourceRef ref{"scheduling.x-k8s.io", "v1alpha1", "podgroups", true};
  return ref;
}

nlohmann::json SchedulerPluginsBackend::DesiredSpec(const v1::EnsureGangRequest& request,
                                                    const kube::ResourceList& min_resources) const {
  nlohmann::json spec = {{"minMember", request.min_member()}};
  nlohmann::json resources = nlohmann::json::object();
  for (const auto& [name, quantity] : min_resources) resources[name] = quantity.ToString();
  spec["minResources"] = std::move(resources);
  if (request.schedule_timeout_seconds() > 0) {
    spec["scheduleTimeoutSeconds"] = request.schedule_timeout_seconds();
  }
  return spec;
}

v1::BindPodResponse SchedulerPluginsBackend::Binding(const v1::BindPodRequest& request) const {
  v1::BindPodResponse response;
  (*response.mutable_labels())["scheduling.x-k8s.io/pod-group"] = request.job().name();
  SetSchedulerName(scheduler_name_, request, response);
  return response;
}

v1::Gang::Phase SchedulerPluginsBackend::Admission(const nlohmann::json&) const {
  return v1::Gang::ADMITTED;
}

}  // namespace kubedl::gang
