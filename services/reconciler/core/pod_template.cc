#include "core/pod_template.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {

api::Json& Containers(api::Json& pod) {
  api::Json& spec = pod["spec"];
  if (!spec.is_object()) spec = api::Json::object();
  api::Json& containers = spec["containers"];
  if (!containers.is_array()) containers = api::Json::array();
  return containers;
}

api::Json* FrameworkContainer(api::Json& pod, const api::KindDescriptor& kind) {
  for (auto& c : Containers(pod)) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
    const std::string name = c["name"].get<std::string>();
    if (std::ranges::any_of(kind.accepted_container_names,
                            [&](std::string_view n) { return n == name; })) {
      return &c;
    }
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
  const api::Json& tmpl = replica.spec.template_spec;
  if (tmpl.contains("spec") && tmpl["spec"].contains("containers") &&
      tmpl["spec"]["containers"].is_array()) {
    for (const auto& c : tmpl["spec"]["containers"]) {
      if (!c.is_object() || !c.contains("ports") || !c["ports"].is_array()) continue;
      for (const auto& p : c["ports"]) {
        if (p.is_object() && p.contains("name") && p["name"] == kind.port_name &&
            p.contains("containerPort") && p["containerPort"].is_number_integer()) {
          return p["containerPort"].get<int64_t>();
        }
      }
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
  std::string host = absl::StrCat(ReplicaName(job.name, replica_type, index), ".",
                                   job.namespace_, ".svc");
  if (!cluster_domain.empty()) absl::StrAppend(&host, ".", A(cluster_domain));
  return host;
}

}  // namespace kubedl::reconciler
