#include "protected_namespaces.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kubernetes_names.h"

namespace kubedl::gang {

absl::StatusOr<ProtectedNamespaces> ProtectedNamespaces::Parse(absl::string_view comma_separated) {
  ProtectedNamespaces result;
  for (absl::string_view entry : absl::StrSplit(comma_separated, ',', absl::SkipWhitespace())) {
    const absl::string_view name = absl::StripAsciiWhitespace(entry);
    if (absl::Status valid = ValidateNamespaceName("protected namespace", name); !valid.ok()) {
      return valid;
    }
    result.names_.insert(std::string(name));
  }
  return result;
}

ProtectedNamespaces ProtectedNamespaces::Defaults() {
  return *Parse(kDefaultProtectedNamespaces);
}

absl::Status ProtectedNamespaces::Check(absl::string_view ns) const {
  if (!names_.contains(ns)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "namespace ", ns, " is protected: the gang scheduler makes no PodGroups there and "
      "answers no calls about it (--protected-namespaces)"));
}

}  // namespace kubedl::gang
