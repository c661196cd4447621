// MPIJob (kubeflow.org/v1): everything lib/api knows of the kind. kind.cc's table lists it.
#include <array>
#include <climits>
#include <string>
#include <string_view>

#include "kinds/kind_hooks.h"
#include "kubedl/common/json_access.h"

namespace kubedl::api::kinds {
namespace {

constexpr std::array<std::string_view, 2> kReplicaTypes = {"Launcher", "Worker"};
// The launcher is one pod, "<job>-launcher": mpirun reaches the workers by their host names.
constexpr std::array<std::string_view, 1> kUnindexed = {"Launcher"};

// spec.slotsPerWorker, spec.mainContainer. spec.cleanPodPolicy, the legacy twin of runPolicy's,
// is read with the other kinds' legacy run-policy keys.
constexpr auto kSpecFields = [](auto&& v, auto& spec) {
  v("slotsPerWorker", spec.slots_per_worker), v("mainContainer", spec.main_container);
};

// A job of only a launcher is valid (mpirun on one host), so an unsized Worker means none.
int64_t DefaultReplicas(std::string_view type) { return type == "Worker" ? 0 : 1; }

// Whether the Worker template has a container named `name`; true when it has no container list
// (that is reported at the template).
bool WorkerHasContainer(const Replica& worker, const std::string& name) {
  const Json* containers = common::MemberPath(worker.spec.template_spec, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return true;
  for (const Json& c : *containers) {
    if (common::StringOr(c, "name") == name) return true;
  }
  return false;
}

void ValidateLauncher(internal::KindValidation& v) {
  const Replica* launcher = v.job().FindReplica("Launcher");
  if (launcher == nullptr) {
    v.Add(Required(v.ReplicaPath("Launcher"), "a Launcher replica is required"));
  } else if (launcher->spec.replicas.value_or(1) != 1) {
    v.Add(Invalid(v.ReplicaPath("Launcher") + ".replicas", *launcher->spec.replicas, "must be 1"));
  }
}

// One launcher; slotsPerWorker >= 1; mainContainer, the container kubectl exec targets, one the
// workers have (otherwise every exec, so the whole run, fails).
void Validate(internal::KindValidation& v) {
  ValidateLauncher(v);
  const JobSpec& spec = v.job().spec;
  if (const auto& slots = spec.slots_per_worker; slots && *slots < 1) {
    v.Add(Invalid("spec.slotsPerWorker", *slots, "must be greater than or equal to 1"));
  } else {
    v.NonNegative(slots, "spec.slotsPerWorker");  // at most an int32
  }
  const Replica* worker = v.job().FindReplica("Worker");
  const auto& main = spec.main_container;
  if (main && !main->empty() && worker != nullptr && !WorkerHasContainer(*worker, *main)) {
    v.Add(Invalid("spec.mainContainer", *main,
                  "must be the name of a container of " + v.ReplicaPath("Worker") +
                      ".template"));
  }
}

constexpr KindHooks kHooks = [] {
  KindHooks hooks = HooksWithSpecFields<decltype(kSpecFields)>(nullptr, &Validate);
  hooks.default_replicas = &DefaultReplicas;
  return hooks;
}();

}  // namespace

KindDescriptor MPIJob() {
  // The fields in KindDescriptor's order. No short name; no container name: the framework
  // container is spec.mainContainer, else the first; no port: mpirun reaches the workers
  // through kubectl exec.
  return {JobKind::kMPIJob, "MPIJob", "kubeflow.org", "v1", "kubeflow.org/v1", "mpijobs", "",
          "mpiReplicaSpecs", kReplicaTypes, "", {}, "", 0, "Never", "None", &kHooks,
          kUnindexed};
}

}  // namespace kubedl::api::kinds
