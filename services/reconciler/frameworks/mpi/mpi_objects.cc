#include "frameworks/mpi/mpi_objects.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kubedl::reconciler::mpi {
namespace {

const kube::ResourceRef kServiceAccounts{"", "v1", "serviceaccounts", true};
const kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true};
const kube::ResourceRef kRoles{"rbac.authorization.k8s.io", "v1", "roles", true};
const kube::ResourceRef kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", true};

api::Json Metadata(const MpiLayout& layout, const std::string& name) {
  return {{"name", name}, {"labels", {{"app", layout.job}}}};
}

OwnedObject ServiceAccount(const MpiLayout& layout) {
  OwnedObject sa{kServiceAccounts,
                 {{"apiVersion", "v1"},
                  {"kind", "ServiceAccount"},
                  {"metadata", Metadata(layout, layout.service_account)}}};
  sa.use_existing = true;  // the template may name an account of the user's own
  return sa;
}

OwnedObject ConfigMap(const MpiLayout& layout, const std::vector<std::string>& running) {
  return {kConfigMaps,
          {{"apiVersion", "v1"},
           {"kind", "ConfigMap"},
           {"metadata", Metadata(layout, layout.ConfigMapName())},
           {"data",
            {{"hostfile", Hostfile(layout)},
             {"kubexec.sh", KubexecScript(layout)},
             {"discover_hosts.sh", DiscoverHostsScript(layout, running)}}}}};
}

// Exec only into the job's workers; with none the rule is left out, since an empty
// resourceNames list would grant exec on every pod of the namespace (decision 13.8).
OwnedObject Role(const MpiLayout& layout) {
  api::Json rules = api::Json::array();
  rules.push_back({{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get", "list", "watch"}}});
  if (!layout.workers.empty()) {
    rules.push_back({{"apiGroups", {""}},
                     {"resources", {"pods/exec"}},
                     {"verbs", {"create"}},
                     {"resourceNames", layout.workers}});
  }
  return {kRoles,
          {{"apiVersion", "rbac.authorization.k8s.io/v1"},
           {"kind", "Role"},
           {"metadata", Metadata(layout, layout.LauncherName())},
           {"rules", std::move(rules)}}};
}

OwnedObject RoleBinding(const MpiLayout& layout) {
  return {kRoleBindings,
          {{"apiVersion", "rbac.authorization.k8s.io/v1"},
           {"kind", "RoleBinding"},
           {"metadata", Metadata(layout, layout.LauncherName())},
           {"subjects",
            {{{"kind", "ServiceAccount"},
              {"name", layout.service_account},
              {"namespace", layout.namespace_}}}},
           {"roleRef",
            {{"apiGroup", "rbac.authorization.k8s.io"},
             {"kind", "Role"},
             {"name", layout.LauncherName()}}}}};
}

}  // namespace

std::string Hostfile(const MpiLayout& layout) {
  std::string out;
  if (layout.gpu_launcher) absl::StrAppend(&out, layout.LauncherName(), " slots=", layout.slots, "\n");
  for (const std::string& worker : layout.workers) {
    absl::StrAppend(&out, worker, " slots=", layout.slots, "\n");
  }
  return out;
}

std::string KubexecScript(const MpiLayout& layout) {
  const std::string container =
      layout.main_container.empty() ? "" : absl::StrCat(" --container ", layout.main_container);
  return absl::StrCat("#!/bin/sh\nset -x\nPOD_NAME=$1\nshift\n/opt/kube/kubectl exec ${POD_NAME}",
                      container, " -- /bin/sh -c \"$*\"");
}

// The blank line after a GPU launcher's entry is what the reference writes; scripts that diff
// the file expect it.
std::string DiscoverHostsScript(const MpiLayout& layout,
                                const std::vector<std::string>& running_workers) {
  std::string out = "#!/bin/sh";
  if (layout.gpu_launcher) absl::StrAppend(&out, "\necho ", layout.LauncherName(), ":", layout.slots, "\n");
  std::vector<std::string> sorted = running_workers;
  std::ranges::sort(sorted);
  for (const std::string& worker : sorted) {
    absl::StrAppend(&out, "\necho ", worker, ":", layout.slots);
  }
  return out;
}

std::vector<OwnedObject> MpiObjects(const MpiLayout& layout,
                                    const std::vector<std::string>& running_workers) {
  return {ServiceAccount(layout), ConfigMap(layout, running_workers), Role(layout),
          RoleBinding(layout)};
}

std::vector<kube::ResourceRef> MpiResources() {
  return {kServiceAccounts, kConfigMaps, kRoles, kRoleBindings};
}

}  // namespace kubedl::reconciler::mpi
