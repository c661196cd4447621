#pragma once

#include "gang_backend.h"

namespace kubedl::gang {

// scheduling.volcano.sh/v1beta1 PodGroups. Volcano admits a group by moving its phase from
// Pending to Inqueue/Running; pods are created only then, so half a job never holds resources.
class VolcanoBackend final : public GangBackend {
 public:
  absl::string_view Name() const override { return "volcano"; }
  const kube::ResourceRef& PodGroupResource() const override;
  std::span<const absl::string_view> SpecKeys() const override;
  nlohmann::json DesiredSpec(const v1::EnsureGangRequest& request,
                             const kube::ResourceList& min_resources) const override;
  bool MergeSpec(const nlohmann::json& desired, nlohmann::json& existing_spec) const override;
  v1::BindPodResponse Binding(const v1::BindPodRequest& request) const override;
  v1::Gang::Phase Admission(const nlohmann::json& pod_group) const override;
};

}  // namespace kubedl::gang
