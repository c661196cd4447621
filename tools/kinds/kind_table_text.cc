#include "kind_table_text.h"

#include <span>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kubedl/api/json.h"
#include "kubedl/api/kind.h"

namespace kubedl::kinds {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::vector<std::string> Strings(std::span<const std::string_view> views) {
  return std::vector<std::string>(views.begin(), views.end());
}

}  // namespace

std::string KindsTsv() {
  std::string out;
  for (const api::KindDescriptor& k : api::AllKinds()) {
    absl::StrAppend(&out, A(k.name), "\t", A(k.group), "\t", A(k.version), "\t", A(k.plural),
                    "\t", A(k.replica_specs_key), "\n");
  }
  return out;
}

std::string KindsJson() {
  api::Json out = api::Json::array();
  for (const api::KindDescriptor& k : api::AllKinds()) {
    out.push_back({{"kind", k.name},
                   {"group", k.group},
                   {"version", k.version},
                   {"apiVersion", k.api_version},
                   {"plural", k.plural},
                   {"shortName", k.short_name},
                   {"replicaSpecsKey", k.replica_specs_key},
                   {"replicaTypes", Strings(k.replica_types)},
                   {"containerName", k.container_name},
                   {"acceptedContainerNames", Strings(k.accepted_container_names)},
                   {"portName", k.port_name},
                   {"port", k.port},
                   {"defaultRestartPolicy", k.default_restart_policy},
                   {"defaultCleanPodPolicy", k.default_clean_pod_policy}});
  }
  return out.dump(2) + "\n";
}

std::string KindsChartList() {
  std::string out = "kinds:\n";
  for (const api::KindDescriptor& k : api::AllKinds()) {
    absl::StrAppend(&out, "- {kind: ", A(k.name), ", group: ", A(k.group), ", version: ",
                    A(k.version), ", plural: ", A(k.plural), "}\n");
  }
  return out;
}

std::string KindsMarkdown() {
  std::string out =
      "| Kind | apiVersion | plural / short | replica map | replica types in reconcile order | "
      "container | port | restartPolicy default | cleanPodPolicy default |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  for (const api::KindDescriptor& k : api::AllKinds()) {
    std::string container(k.container_name);
    std::vector<std::string> others;
    for (std::string_view name : k.accepted_container_names) {
      if (name != k.container_name) others.emplace_back(name);
    }
    if (!others.empty()) absl::StrAppend(&container, " (also ", absl::StrJoin(others, ", "), ")");
    // A kind without a short name, container name or port (MPI) says so instead of a blank.
    if (container.empty()) container = "mainContainer, else the first";
    const std::string plural =
        k.short_name.empty() ? std::string(k.plural) : absl::StrCat(A(k.plural), " / ", A(k.short_name));
    const std::string port =
        k.port_name.empty() ? "none" : absl::StrCat(A(k.port_name), " ", k.port);
    absl::StrAppend(&out, "| ", A(k.name), " | ", A(k.api_version), " | ", plural, " | ",
                    A(k.replica_specs_key), " | ", absl::StrJoin(Strings(k.replica_types), ", "),
                    " | ", container, " | ", port, " | ", A(k.default_restart_policy), " | ",
                    A(k.default_clean_pod_policy), " |\n");
  }
  return out;
}

}  // namespace kubedl::kinds
