#include "min_resources.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kubedl::gang {

absl::StatusOr<kube::ResourceList> ComputeMinResources(const v1::EnsureGangRequest& request,
                                                       const PriorityLookup& priority_of) {
  struct Entry {
    const v1::ReplicaResources* replica;
    int32_t priority;
  };
  std::vector<Entry> order;
  for (const v1::ReplicaResources& replica : request.replicas()) {
    order.push_back({&replica, priority_of(replica.priority_class_name())});
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Entry& a, const Entry& b) { return a.priority > b.priority; });

  kube::ResourceList total;
  int64_t remaining = request.min_member();
  for (const Entry& entry : order) {
    if (remaining <= 0) break;
    const int64_t pods = std::min<int64_t>(remaining, entry.replica->replicas());
    if (pods <= 0) continue;
    remaining -= pods;
    std::map<std::string, std::string> raw(entry.replica->requests().begin(),
                                           entry.replica->requests().end());
    absl::StatusOr<kube::ResourceList> per_pod = kube::ParseResourceList(raw);
    if (!per_pod.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("replicas[", entry.replica->replica_type(),
                                                     "].requests.", per_pod.status().message()));
    }
    for (const auto& [name, quantity] : *per_pod) total[name] += quantity * pods;
  }
  return total;
}

absl::StatusOr<kube::ResourceList> ResolveMinResources(const v1::EnsureGangRequest& request,
                                                       const PriorityLookup& priority_of) {
  if (request.min_resources().empty()) return ComputeMinResources(request, priority_of);
  std::map<std::string, std::string> raw(request.min_resources().begin(),
                                         request.min_resources().end());
  absl::StatusOr<kube::ResourceList> list = kube::ParseResourceList(raw);
  if (!list.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("min_resources.", list.status().message()));
  }
  return list;
}

}  // namespace kubedl::gang
