#pragma once

#include "gang_backend.h"

namespace kubedl::gang {

// scheduling.incubator.k8s.io/v1alpha1 PodGroups of kube-batch, which gangs pods itself.
class KubeBatchBackend final : public GangBackend {
 public:
  absl::string_view Name() const override { return "kube-batch"; }
  const kube::ResourceRef& PodGroupResource() const override;
  std::span<const absl::string_view> SpecKeys() const override;
  nlohmann::json DesiredSpec(const v1::EnsureGangRequest& request,
                             const kube::ResourceList& min_resources) const override;
  v1::BindPodResponse Binding(const v1::BindPodRequest& request) const override;
  v1::Gang::Phase Admission(const nlohmann::json& pod_group) const override;
};

}  // namespace kubedl::gang
