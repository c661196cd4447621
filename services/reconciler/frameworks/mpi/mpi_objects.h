#pragma once
// The objects an MPIJob owns besides its pods (SPEC §10 steps 1–4), exact to the byte: the
// launcher's ServiceAccount, the `<job>-config` ConfigMap (hostfile, kubexec.sh,
// discover_hosts.sh), and the Role and RoleBinding that let the launcher exec into its workers.
#include <string>
#include <vector>

#include "core/framework.h"
#include "frameworks/mpi/mpi_layout.h"

namespace kubedl::reconciler::mpi {

// "<worker> slots=<n>\n" per worker, a GPU launcher first.
std::string Hostfile(const MpiLayout& layout);
// The rsh agent mpirun runs: `kubectl exec` into the named pod (and mainContainer).
std::string KubexecScript(const MpiLayout& layout);
// "echo <pod>:<n>" per Running worker, by name (Horovod's elastic host discovery).
std::string DiscoverHostsScript(const MpiLayout& layout,
                                const std::vector<std::string>& running_workers);

// In the order the launcher needs them: ServiceAccount, ConfigMap, Role, RoleBinding.
std::vector<OwnedObject> MpiObjects(const MpiLayout& layout,
                                    const std::vector<std::string>& running_workers);
// Their resources, in the same order.
std::vector<kube::ResourceRef> MpiResources();

}  // namespace kubedl::reconciler::mpi
