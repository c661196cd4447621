#pragma once

// Kubernetes API errors as absl::Status.
//
// The absl code says what the caller should do (Unavailable: retry; Aborted: re-read and
// retry; AlreadyExists / NotFound: the object is or is not there; FailedPrecondition: don't
// retry). The Kubernetes reason (metav1.Status.reason), the HTTP code and the field causes are
// kept in a status payload under kStatusPayloadUrl, so `IsConflict(s)` and friends answer
// exactly what the server said, and the server's message is the status message.

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"

namespace kubedl::kube {

inline constexpr absl::string_view kStatusPayloadUrl = "type.kubedl.io/kubernetes.Status";

// One metav1.StatusCause: a field that failed validation, a conflicting field of an apply.
struct StatusCause {
  std::string type;     // e.g. "FieldValueRequired"
  std::string message;
  std::string field;    // e.g. "spec.containers[0].image"
};

// Builds the status for an HTTP response that is not 2xx. `body` may hold a metav1.Status; when
// it does not (a proxy's HTML page, an empty body), the reason is derived from the HTTP code.
absl::Status StatusFromResponse(int http_code, absl::string_view body);

// Builds the status for a metav1.Status object already parsed, e.g. a watch ERROR event.
// `status_json` is the object's JSON text.
absl::Status StatusFromStatusObject(absl::string_view status_json);

// Builds the status for a reason the server would send, e.g. in tests or fakes.
absl::Status MakeApiError(int http_code, absl::string_view reason, absl::string_view message,
                          std::vector<StatusCause> causes = {});

// The Kubernetes reason of a status made by this file ("NotFound", "Conflict", "Expired"...),
// or "" for other statuses.
std::string Reason(const absl::Status& status);
// The HTTP code of a status made by this file, or 0.
int HttpCode(const absl::Status& status);
// The field causes the server listed (Invalid, apply conflicts).
std::vector<StatusCause> Causes(const absl::Status& status);

bool IsNotFound(const absl::Status& status);
bool IsAlreadyExists(const absl::Status& status);
bool IsConflict(const absl::Status& status);          // 409 with reason Conflict (stale RV)
bool IsGone(const absl::Status& status);              // 410 Gone or Expired: relist
bool IsInvalid(const absl::Status& status);           // 422
bool IsBadRequest(const absl::Status& status);
bool IsForbidden(const absl::Status& status);
bool IsUnauthorized(const absl::Status& status);
bool IsTooManyRequests(const absl::Status& status);
bool IsUnsupportedMediaType(const absl::Status& status);
bool IsServerUnavailable(const absl::Status& status);  // 503/504, or no answer at all

}  // namespace kubedl::kube
