#include "volcano_backend.h"

#include <array>

#include "absl/strings/ascii.h"

namespace kubedl::gang {

std::span<const absl::string_view> VolcanoBackend::SpecKeys() const {
  static constexpr std::array<absl::string_view, 4> kKeys = {"minMember", "minResources", "queue",
                                                            "priorityClassName"};
  return kKeys;
}

const kube::ResourceRef& VolcanoBackend::PodGroupResource() const {
  static const kube::ResourceRef ref{"scheduling.volcano.sh", "v1beta1", "podgroups", true};
  return ref;
}

nlohmann::json VolcanoBackend::DesiredSpec(const v1::EnsureGangRequest& request,
                                           const kube::ResourceList& min_resources) const {
  nlohmann::json spec = {{"minMember", request.min_member()},
                         {"queue", request.queue().empty() ? "default" : request.queue()}};
  if (!request.priority_class_name().empty()) {
    spec["priorityClassName"] = request.priority_class_name();
  }
  if (!min_resources.empty()) {
    nlohmann::json resources = nlohmann::json::object();
    for (const auto& [name, quantity] : min_resources) resources[name] = quantity.ToString();
    spec["minResources"] = std::move(resources);
  }
  return spec;
}

bool VolcanoBackend::MergeSpec(const nlohmann::json& desired, nlohmann::json& existing_spec) const {
  // A queue already on the PodGroup wins: Volcano may have placed the group, and moving it
  // between queues is not ours to do.
  nlohmann::json wanted = desired;
  if (existing_spec.contains("queue") && existing_spec["queue"].is_string() &&
      !existing_spec["queue"].get<std::string>().empty()) {
    wanted["queue"] = existing_spec["queue"];
  }
  return GangBackend::MergeSpec(wanted, existing_spec);
}

v1::BindPodResponse VolcanoBackend::Binding(const v1::BindPodRequest& request) const {
  v1::BindPodResponse response;
  (*response.mutable_annotations())["scheduling.k8s.io/group-name"] = request.job().name();
  (*response.mutable_annotations())["volcano.sh/task-spec"] =
      absl::AsciiStrToLower(request.replica_type());
  SetSchedulerName("volcano", request, response);
  return response;
}

v1::Gang::Phase VolcanoBackend::Admission(const nlohmann::json& pod_group) const {
  std::string phase;
  if (auto status = pod_group.find("status"); status != pod_group.end() && status->is_object()) {
    phase = status->value("phase", "");
  }
  return phase.empty() || phase == "Pending" ? v1::Gang::PENDING : v1::Gang::ADMITTED;
}

}  // namespace kubedl::gang
