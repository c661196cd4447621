#include "kubedl/api/defaults.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kinds/kind_hooks.h"

namespace kubedl::api {
namespace {

// Moves one legacy key into the run policy, with a warning.
template <class T>
void MoveLegacy(std::optional<T>& legacy, std::optional<T>& target, const char* key,
                std::vector<std::string>& warnings) {
  if (!legacy) return;
  if (!target) {
    target = std::move(legacy);
    warnings.push_back(absl::StrCat("spec.", key, " is deprecated: moved to spec.runPolicy.", key));
  } else {
    warnings.push_back(absl::StrCat("spec.", key, " is deprecated and ignored: spec.runPolicy.",
                                    key, " is set"));
  }
  legacy.reset();
}

// A kind without a port name (MPI: mpirun reaches workers through kubectl exec) gets none.
void DefaultPort(const KindDescriptor& kind, Json& pod_template) {
  if (kind.port_name.empty()) return;
  int index = FrameworkContainerIndex(kind, pod_template);
  if (index < 0) return;
  Json& container = pod_template["spec"]["containers"][static_cast<size_t>(index)];
  if (!container.is_object()) return;
  Json& ports = MemberOf(container, "ports");
  if (ports.is_null()) ports = Json::array();
  if (!ports.is_array()) return;  // left for validation
  for (const Json& port : ports) {
    if (port.is_object() && port.value("name", Json()) == Json(kind.port_name)) return;
  }
  Json port = Json::object();
  port["name"] = kind.port_name;
  port["containerPort"] = kind.port;
  ports.push_back(std::move(port));
}

}  // namespace

int FrameworkContainerIndex(const KindDescriptor& kind, const Json& pod_template) {
  if (!pod_template.is_object()) return -1;
  auto spec = pod_template.find("spec");
  if (spec == pod_template.end() || !spec->is_object()) return -1;
  auto containers = spec->find("containers");
  if (containers == spec->end() || !containers->is_array() || containers->empty()) return -1;
  for (size_t i = 0; i < containers->size(); ++i) {
    const Json& c = (*containers)[i];
    if (!c.is_object()) continue;
    auto name = c.find("name");
    if (name == c.end() || !name->is_string()) continue;
    const std::string& n = name->get_ref<const std::string&>();
    if (std::find(kind.accepted_container_names.begin(), kind.accepted_container_names.end(), n) !=
        kind.accepted_container_names.end()) {
      return static_cast<int>(i);
    }
  }
  return 0;
}

DefaultingResult DefaultJob(Job& job) {
  DefaultingResult result;
  const KindDescriptor& kind = job.descriptor();
  JobSpec& spec = job.spec;

  // Replica types in canonical case, unless two spellings of one type would collide (left for
  // validation to report).
  for (Replica& replica : spec.replica_specs) {
    std::string_view canonical = CanonicalReplicaType(kind, replica.type);
    if (canonical.empty() || canonical == replica.type) continue;
    bool taken = std::any_of(spec.replica_specs.begin(), spec.replica_specs.end(),
                             [&](const Replica& r) { return r.type == canonical; });
    if (!taken) replica.type = std::string(canonical);
  }
  const auto default_replicas = kind.hooks != nullptr ? kind.hooks->default_replicas : nullptr;
  for (Replica& replica : spec.replica_specs) {
    if (!replica.spec.replicas) {
      replica.spec.replicas = default_replicas != nullptr ? default_replicas(replica.type) : 1;
    }
    if (!replica.spec.restart_policy) {
      replica.spec.restart_policy = std::string(kind.default_restart_policy);
    }
    DefaultPort(kind, replica.spec.template_spec);
  }

  RunPolicy& legacy = spec.legacy_run_policy;
  if (!legacy.empty()) {
    RunPolicy& target = spec.run_policy ? *spec.run_policy : spec.run_policy.emplace();
    MoveLegacy(legacy.clean_pod_policy, target.clean_pod_policy, "cleanPodPolicy",
               result.warnings);
    MoveLegacy(legacy.ttl_seconds_after_finished, target.ttl_seconds_after_finished,
               "ttlSecondsAfterFinished", result.warnings);
    MoveLegacy(legacy.active_deadline_seconds, target.active_deadline_seconds,
               "activeDeadlineSeconds", result.warnings);
    MoveLegacy(legacy.backoff_limit, target.backoff_limit, "backoffLimit", result.warnings);
    MoveLegacy(legacy.suspend, target.suspend, "suspend", result.warnings);
    MoveLegacy(legacy.scheduling_policy, target.scheduling_policy, "schedulingPolicy",
               result.warnings);
  }
  RunPolicy& run_policy = spec.run_policy ? *spec.run_policy : spec.run_policy.emplace();
  if (!run_policy.clean_pod_policy) {
    run_policy.clean_pod_policy = std::string(kind.default_clean_pod_policy);
  }
  if (!run_policy.suspend) run_policy.suspend = false;

  if (kind.hooks != nullptr && kind.hooks->default_spec != nullptr) kind.hooks->default_spec(job);
  return result;
}

}  // namespace kubedl::api
