#pragma once

// Namespaces no gang call may name (--protected-namespaces): the cluster's own, where no
// training job belongs and where a PodGroup made for an attacker would sit beside the system.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kubedl::gang {

inline constexpr char kDefaultProtectedNamespaces[] = "kube-system,kube-public,kube-node-lease";

class ProtectedNamespaces {
 public:
  // From a comma-separated list (spaces around names ignored; "" protects none). InvalidArgument
  // for an entry that is not a namespace name.
  static absl::StatusOr<ProtectedNamespaces> Parse(absl::string_view comma_separated);
  // kDefaultProtectedNamespaces.
  static ProtectedNamespaces Defaults();

  // PermissionDenied when `ns` is protected.
  absl::Status Check(absl::string_view ns) const;

 private:
  absl::flat_hash_set<std::string> names_;
};

}  // namespace kubedl::gang
