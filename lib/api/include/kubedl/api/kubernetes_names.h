#pragma once
#include <cstddef>
#include <string_view>

// Kubernetes' name rules, as the API server applies them: one place for every service that
// checks a name before it uses it (validation, the code-sync annotation, the gang scheduler's
// requests, the metrics service's label values).
namespace kubedl::api {

inline constexpr size_t kMaxDns1123LabelLength = 63;
inline constexpr size_t kMaxDns1123SubdomainLength = 253;

// A namespace, a Service or a container name: lower case alphanumerics and '-', alphanumeric at
// both ends, at most 63 characters.
bool IsDns1123Label(std::string_view name);
// An object name (a Pod, a Secret, a PodGroup): dot-separated DNS-1123 labels, at most 253
// characters in all.
bool IsDns1123Subdomain(std::string_view name);
// A DNS-1123 label that starts with a letter (a job's name becomes Service names).
bool IsDns1035Label(std::string_view name);

}  // namespace kubedl::api
