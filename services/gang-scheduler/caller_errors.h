#pragma once

// What a gang call's caller should do about an error, as a status code. The API server's answers
// are sorted by what retrying would achieve (proto/kubedl/v1/gang_scheduler.proto):
//   the request itself is too large or malformed (HTTP 400, 413, 414, 422, etcd's size
//   refusal)                                   -> InvalidArgument: the same request fails again
//   this service may not do it (HTTP 403: its RBAC)  -> FailedPrecondition: retry much later,
//                                                   after the cluster is fixed
//   the API server or etcd is busy or down (5xx, 429, 401 while a token rotates, timeouts)
//                                               -> Unavailable: retry with backoff
// Statuses this service made itself (PermissionDenied for a refused caller, FailedPrecondition
// for a missing CRD, InvalidArgument for a bad request) keep their codes.

#include "absl/status/status.h"

namespace kubedl::gang {

absl::Status ForCaller(const absl::Status& status);

// Whether the API server (or etcd behind it) refused a request for its size.
bool IsTooLarge(const absl::Status& status);

}  // namespace kubedl::gang
