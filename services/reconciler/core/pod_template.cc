#include "core/pod_template.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "kubedl/common/json_access.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {

api::Json& Containers(api::Json& pod) {
  api::Json& spec = pod["spec"];
  if (!spec.is_object()) spec = api::Json::object();
  api::Json& containers = spec["containers"];
  if (!containers.is_array()) containers = api::Json::array();
  return containers;
}

namespace {
bool IsFrameworkContainer(const api::Json& c, const api::KindDescriptor& kind) {
  const api::Json* name = common::Member(c, "name");
  if (name == nullptr || !name->is_string()) return false;
  const std::string& n = name->get_ref<const std::string&>();
  return std::ranges::any_of(kind.accepted_container_names,
                             [&](std::string_view accepted) { return accepted == n; });
}
}  // namespace

api::Json* FrameworkContainer(api::Json& pod, const api::KindDescriptor& kind) {
  for (auto& c : Containers(pod)) {
    if (IsFrameworkContainer(c, kind)) return &c;
  }
  return nullptr;
}

const api::Json* FrameworkContainer(const api::Json& pod, const api::KindDescriptor& kind) {
  const api::Json* containers = common::MemberPath(pod, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return nullptr;
  for (const auto& c : *containers) {
    if (IsFrameworkContainer(c, kind)) return &c;
  }
  return nullptr;
}

void AddEnv(api::Json& container, std::string_view name, std::string_view value) {
  api::Json& env = container["env"];
  if (!env.is_array()) env = api::Json::array();
  for (const auto& e : env) {
    if (e.is_object() && e.contains("name") && e["name"] == name) return;
  }
  env.push_back({{"name", name}, {"value", value}});
}

int64_t ReplicaPort(const api::Replica& replica, const api::KindDescriptor& kind) {
  const api::Json* containers =
      common::MemberPath(replica.spec.template_spec, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return kind.port;
  for (const auto& c : *containers) {
    const api::Json* ports = common::Member(c, "ports");
    if (ports == nullptr || !ports->is_array()) continue;
    for (const auto& p : *ports) {
      if (common::StringOr(p, "name") != kind.port_name) continue;
      if (std::optional<int64_t> port = common::IntAt(p, "containerPort")) return *port;
    }
  }
  return kind.port;
}

int64_t TotalReplicas(const api::Job& job) {
  int64_t total = 0;
  for (const auto& r : job.spec.replica_specs) total += r.spec.replicas.value_or(1);
  return total;
}

std::string ServiceHost(const api::Job& job, std::string_view replica_type, int64_t index,
                        std::string_view cluster_domain) {
  std::string host = absl::StrCat(ReplicaName(job, replica_type, index), ".",
                                   job.namespace_, ".svc");
  if (!cluster_domain.empty()) absl::StrAppend(&host, ".", A(cluster_domain));
  return host;
}

}  // namespace kubedl::reconciler
