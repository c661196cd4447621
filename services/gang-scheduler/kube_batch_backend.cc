#include "kube_batch_backend.h"

#include <array>

namespace kubedl::gang {

std::span<const absl::string_view> KubeBatchBackend::SpecKeys() const {
  static constexpr std::array<absl::string_view, 1> kKeys = {"minMember"};
  return kKeys;
}

const kube::ResourceRef& KubeBatchBackend::PodGroupResource() const {
  static const kube::ResourceRef ref{"scheduling.incubator.k8s.io", "v1alpha1", "podgroups", true};
  return ref;
}

nlohmann::json KubeBatchBackend::DesiredSpec(const v1::EnsureGangRequest& request,
                                             const kube::ResourceList&) const {
  return {{"minMember", request.min_member()}};
}

v1::BindPodResponse KubeBatchBackend::Binding(const v1::BindPodRequest& request) const {
  v1::BindPodResponse response;
  (*response.mutable_annotations())["scheduling.k8s.io/group-name"] = request.job().name();
  SetSchedulerName("kube-batch", request, response);
  return response;
}

v1::Gang::Phase KubeBatchBackend::Admission(const nlohmann::json&) const {
  return v1::Gang::ADMITTED;
}

}  // namespace kubedl::gang
