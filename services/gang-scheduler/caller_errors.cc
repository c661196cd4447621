#include "caller_errors.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kubedl/kube/errors.h"

namespace kubedl::gang {

bool IsTooLarge(const absl::Status& status) {
  const int http = kube::HttpCode(status);
  if (http == 413 || http == 414 || kube::Reason(status) == "RequestEntityTooLarge") return true;
  // etcd refuses an object over its --max-request-bytes ("etcdserver: request is too large")
  // and the API server's etcd client one over its send limit ("trying to send message larger
  // than max"); the API server passes both on as 500 InternalError.
  const absl::string_view message = status.message();
  return http >= 500 && (absl::StrContains(message, "request is too large") ||
                         absl::StrContains(message, "message larger than max"));
}

absl::Status ForCaller(const absl::Status& status) {
  if (status.ok()) return status;
  const int http = kube::HttpCode(status);
  if (http == 0) {
    // Not an API server answer: ours, or the connection to the API server failed.
    if (status.code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::UnavailableError(status.message());
    }
    return status;
  }
  if (IsTooLarge(status)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the API server refused the PodGroup as too large (", status.message(),
        "): the same request would be refused again"));
  }
  if (http == 403) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the gang scheduler's service account is not allowed this (", status.message(),
        "): check its RBAC (charts/kubedl/templates/rbac.yaml)"));
  }
  if (http == 400 || http == 422) return absl::InvalidArgumentError(status.message());
  if (http == 401 || http == 429 || http >= 500) return absl::UnavailableError(status.message());
  return status;
}

}  // namespace kubedl::gang
