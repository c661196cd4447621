// MPIJob (SPEC §10, decisions 13.3–13.9): a launcher that runs mpirun and reaches its workers
// through `kubectl exec` (no Services); the job owns the launcher's ServiceAccount, Role and
// RoleBinding and a ConfigMap with the hostfile; the launcher decides success.
#include "core/framework.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/pod_template.h"
#include "frameworks/mpi/mpi_layout.h"
#include "frameworks/mpi/mpi_objects.h"
#include "frameworks/replica_progress.h"
#include "kubedl/common/json_access.h"

namespace kubedl::reconciler {
namespace {

using mpi::MpiLayout;

void AddVolume(api::Json& pod, api::Json volume) {
  api::Json& volumes = pod["spec"]["volumes"];
  if (!volumes.is_array()) volumes = api::Json::array();
  for (const api::Json& v : volumes) {
    if (v.is_object() && v.value("name", api::Json()) == volume["name"]) return;
  }
  volumes.push_back(std::move(volume));
}

void AddMount(api::Json& container, const std::string& volume, const std::string& path) {
  api::Json& mounts = container["volumeMounts"];
  if (!mounts.is_array()) mounts = api::Json::array();
  for (const api::Json& m : mounts) {
    if (m.is_object() && m.value("name", api::Json()) == volume) return;
  }
  mounts.push_back({{"name", volume}, {"mountPath", path}});
}

api::Json ConfigItem(const char* key, int mode) {
  return {{"key", key}, {"path", key}, {"mode", mode}};
}

api::Json ConfigVolume(const MpiLayout& layout, api::Json items) {
  return {{"name", mpi::kConfigVolume},
          {"configMap", {{"name", layout.ConfigMapName()}, {"items", std::move(items)}}}};
}

// Copies kubectl for kubexec.sh, then holds the launcher until every worker runs, so a launcher
// that never restarts cannot start mpirun against workers that are not there yet (13.4).
api::Json KubectlDelivery(const MpiLayout& layout, const FrameworkOptions& options) {
  std::string script = absl::StrCat("cp /bin/kubectl ", mpi::kKubectlDir, "/kubectl");
  if (!layout.workers.empty()) {
    absl::StrAppend(&script, " && for h in ", absl::StrJoin(layout.workers, " "),
                    "; do until [ \"$(", mpi::kKubectlDir,
                    "/kubectl get pod $h -n $NAMESPACE -o jsonpath='{.status.phase}')\" = "
                    "Running ]; do sleep 2; done; done");
  }
  const api::Json resources = {{"cpu", "100m"}, {"memory", "512Mi"}, {"ephemeral-storage", "5Gi"}};
  return {{"name", "kubectl-delivery"},
          {"image", options.mpi_kubectl_delivery_image},
          {"imagePullPolicy", "IfNotPresent"},
          {"command", {"/bin/sh", "-c", script}},
          {"env",
           {{{"name", "TARGET_DIR"}, {"value", mpi::kKubectlDir}},
            {{"name", "NAMESPACE"}, {"value", layout.namespace_}}}},
          {"resources", {{"limits", resources}, {"requests", resources}}},
          {"volumeMounts",
           {{{"name", mpi::kKubectlVolume}, {"mountPath", mpi::kKubectlDir}},
            {{"name", mpi::kConfigVolume}, {"mountPath", mpi::kConfigMountPath}}}}};
}

void DecorateLauncher(const MpiLayout& layout, const FrameworkOptions& options, api::Json& pod) {
  api::Json& spec = pod["spec"];
  if (common::StringOr(spec, "serviceAccountName").empty()) {
    spec["serviceAccountName"] = layout.service_account;
  }
  api::Json& init = spec["initContainers"];
  if (!init.is_array()) init = api::Json::array();
  init.push_back(KubectlDelivery(layout, options));
  AddVolume(pod, {{"name", mpi::kKubectlVolume}, {"emptyDir", api::Json::object()}});
  AddVolume(pod, ConfigVolume(layout, {ConfigItem("kubexec.sh", 0555),
                                       ConfigItem("hostfile", 0444),
                                       ConfigItem("discover_hosts.sh", 0555)}));
  api::Json* container = mpi::MpiContainer(pod, layout.main_container);
  if (container == nullptr) return;
  AddMount(*container, mpi::kKubectlVolume, mpi::kKubectlDir);
  AddMount(*container, mpi::kConfigVolume, mpi::kConfigMountPath);
  const std::string kubexec = absl::StrCat(mpi::kConfigMountPath, "/kubexec.sh");
  AddEnv(*container, "OMPI_MCA_plm_rsh_agent", kubexec);
  AddEnv(*container, "OMPI_MCA_orte_default_hostfile",
         absl::StrCat(mpi::kConfigMountPath, "/hostfile"));
  if (!layout.gpu_launcher) {
    // A CPU launcher must not grab the node's GPUs through the NVIDIA runtime's defaults.
    AddEnv(*container, "NVIDIA_VISIBLE_DEVICES", "");
    AddEnv(*container, "NVIDIA_DRIVER_CAPABILITIES", "");
  }
  AddEnv(*container, "I_MPI_HYDRA_BOOTSTRAP", "rsh");
  AddEnv(*container, "I_MPI_HYDRA_BOOTSTRAP_EXEC", kubexec);
}

// A worker only idles until the launcher execs into it.
void DecorateWorker(const MpiLayout& layout, api::Json& pod) {
  AddVolume(pod, ConfigVolume(layout, {ConfigItem("kubexec.sh", 0555)}));
  api::Json* container = mpi::MpiContainer(pod, layout.main_container);
  if (container == nullptr) return;
  const api::Json* command = common::Member(*container, "command");
  if (command == nullptr || !command->is_array() || command->empty()) {
    (*container)["command"] = {"sleep"};
    (*container)["args"] = {"365d"};
  }
  AddMount(*container, mpi::kConfigVolume, mpi::kConfigMountPath);
}

std::vector<std::string> RunningWorkers(const MpiLayout& layout, const ReplicaStates& states) {
  std::vector<std::string> running;
  const ReplicaState* workers = FindState(states, "Worker");
  if (workers == nullptr) return running;
  for (size_t i = 0; i < workers->by_index.size() && i < layout.workers.size(); ++i) {
    if (workers->by_index[i] == PodOutcome::kRunning) running.push_back(layout.workers[i]);
  }
  return running;
}

class MPIJobFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kMPIJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type, int64_t,
                           const FrameworkOptions& options, api::Json& pod) const override {
    const bool launcher = replica_type == "Launcher";
    const MpiLayout layout = mpi::MpiLayoutOf(job, /*with_workers=*/launcher);
    if (launcher) {
      DecorateLauncher(layout, options, pod);
    } else {
      DecorateWorker(layout, pod);
    }
    return absl::OkStatus();
  }

  bool IsMaster(const api::Job&, std::string_view replica_type, int64_t) const override {
    return replica_type == "Launcher";
  }

  bool HeadlessServices() const override { return false; }

  // The launcher decides success; the job runs once the launcher and every worker run (13.5).
  JobProgress Progress(const api::Job&, const ReplicaStates& states) const override {
    const ReplicaState* launcher = FindState(states, "Launcher");
    if (launcher == nullptr) return JobProgress::kNotRunning;
    if (launcher->succeeded > 0) return JobProgress::kSucceeded;
    const ReplicaState* workers = FindState(states, "Worker");
    const bool workers_run = workers == nullptr || workers->active >= workers->replicas;
    return launcher->active > 0 && workers_run ? JobProgress::kRunning : JobProgress::kNotRunning;
  }

  std::vector<kube::ResourceRef> OwnedResources() const override { return mpi::MpiResources(); }

  std::vector<OwnedObject> DesiredObjects(const api::Job& job, const ReplicaStates& states,
                                          const FrameworkOptions&) const override {
    const MpiLayout layout = mpi::MpiLayoutOf(job);
    return mpi::MpiObjects(layout, RunningWorkers(layout, states));
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(MPIJobFramework);

}  // namespace kubedl::reconciler
