#pragma once

// Kubernetes' name rules, checked before a name reaches a URL or an object: a request naming
// what the API server would refuse (or a megabyte of text) is the caller's mistake, answered
// with InvalidArgument at once instead of an API server error read as "retry" or "CRD missing".

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kubedl::gang {

// InvalidArgument naming `field` unless `name` is a DNS-1123 subdomain (an object name: PodGroups,
// jobs, PriorityClasses, queues; api::IsDns1123Subdomain). The message quotes at
// most the first 64 characters of the name.
absl::Status ValidateObjectName(absl::string_view field, absl::string_view name);
// InvalidArgument naming `field` unless `name` is a DNS-1123 label (a namespace).
absl::Status ValidateNamespaceName(absl::string_view field, absl::string_view name);

}  // namespace kubedl::gang
