#pragma once
// What an MPIJob's extra objects and pods are built from (SPEC §10): the worker names, the slots
// per worker, whether the launcher holds GPUs, which container runs MPI. Pure: read from the job.
#include <cstdint>
#include <string>
#include <vector>

#include "kubedl/api/job.h"
#include "kubedl/api/json.h"

namespace kubedl::reconciler::mpi {

inline constexpr char kConfigVolume[] = "mpi-job-config";
inline constexpr char kKubectlVolume[] = "mpi-job-kubectl";
inline constexpr char kConfigMountPath[] = "/etc/mpi";
inline constexpr char kKubectlDir[] = "/opt/kube";

struct MpiLayout {
  std::string job;
  std::string namespace_;
  int64_t slots = 1;
  // A launcher container limits a resource whose name contains "gpu": the launcher is a host
  // in the hostfile and sees its devices.
  bool gpu_launcher = false;
  std::string main_container;       // spec.mainContainer, may be empty
  std::vector<std::string> workers;  // "<job>-worker-<i>", i ascending
  std::string service_account;       // the launcher's: its template's, else "<job>-launcher"

  std::string LauncherName() const;  // "<job>-launcher", also the Role's and RoleBinding's
  std::string ConfigMapName() const;  // "<job>-config"
};

// `with_workers` false leaves `workers` empty: a worker pod needs none of the names, and listing
// them for each of n workers would cost n² per job.
MpiLayout MpiLayoutOf(const api::Job& job, bool with_workers = true);

// The container of a pod that runs MPI: the one named mainContainer, else the first (13.3).
api::Json* MpiContainer(api::Json& pod, const std::string& main_container);

}  // namespace kubedl::reconciler::mpi
