#include "frameworks/cluster_spec.h"

#include "kubedl/common/string_view.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/pod_template.h"

namespace kubedl::reconciler {
namespace {

std::string Address(const api::Job& job, const api::Replica& replica, int64_t index,
                    std::string_view domain) {
  return absl::StrCat(ServiceHost(job, replica.type, index, domain), ":",
                      ReplicaPort(replica, job.descriptor()));
}

}  // namespace

api::Json ClusterSpec(const api::Job& job, std::string_view replica_type, int64_t index,
                      const ClusterSpecOptions& options) {
  api::Json cluster = api::Json::object();
  const std::string own_type = absl::AsciiStrToLower(A(replica_type));
  // Reconcile order (the descriptor's), so the document is the same whatever order was written.
  for (std::string_view type : job.descriptor().replica_types) {
    const api::Replica* replica = job.FindReplica(type);
    if (replica == nullptr) continue;
    const std::string key = absl::AsciiStrToLower(A(type));
    const int64_t replicas = replica->spec.replicas.value_or(1);
    if (options.dynamic_worker && key != "ps") {
      if (key == own_type) {
        cluster[key] = {{absl::StrCat(index), Address(job, *replica, index, options.cluster_domain)}};
      }
      continue;
    }
    if (options.dynamic_worker && own_type == "ps") {
      cluster[key] = {{absl::StrCat(index), Address(job, *replica, index, options.cluster_domain)}};
      continue;
    }
    api::Json addresses = api::Json::array();
    for (int64_t i = 0; i < replicas; ++i) {
      addresses.push_back(Address(job, *replica, i, options.cluster_domain));
    }
    cluster[key] = std::move(addresses);
  }
  api::Json config = {{"cluster", std::move(cluster)},
                      {"task", {{"type", own_type}, {"index", index}}}};
  if (options.environment_cloud) config["environment"] = "cloud";
  return config;
}

}  // namespace kubedl::reconciler
