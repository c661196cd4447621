#include "kubernetes_names.h"

#include "absl/strings/str_cat.h"
#include "kubedl/api/kubernetes_names.h"

namespace kubedl::gang {
namespace {

// A name short enough to quote in a message: a long one is the kind of request these checks
// exist for, and its text must not travel back whole.
std::string Quoted(absl::string_view name) {
  constexpr size_t kQuoted = 64;
  if (name.size() <= kQuoted) return absl::StrCat("\"", name, "\"");
  return absl::StrCat("\"", name.substr(0, kQuoted), "...\" (", name.size(), " characters)");
}

}  // namespace

absl::Status ValidateObjectName(absl::string_view field, absl::string_view name) {
  if (api::IsDns1123Subdomain(std::string_view(name.data(), name.size()))) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " ", Quoted(name), " is not a valid Kubernetes name: a lowercase RFC 1123 "
      "subdomain of at most ", api::kMaxDns1123SubdomainLength,
      " characters (lower case alphanumerics, '-' and '.', alphanumeric at both ends)"));
}

absl::Status ValidateNamespaceName(absl::string_view field, absl::string_view name) {
  if (api::IsDns1123Label(std::string_view(name.data(), name.size()))) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " ", Quoted(name), " is not a valid namespace name: a lowercase RFC 1123 label of "
      "at most ", api::kMaxDns1123LabelLength,
      " characters (lower case alphanumerics and '-', alphanumeric at both ends)"));
}

}  // namespace kubedl::gang
