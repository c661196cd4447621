#pragma once
// Turns one AdmissionReview v1 request body into the response body, for one job kind and one
// webhook (mutate or validate). Pure: no I/O, no clock, safe to call from many threads.
#include <string>
#include <string_view>

#include "kubedl/api/json_depth.h"
#include "kubedl/api/kind.h"
#include "kubedl/api/validation.h"

namespace kubedl::webhook {

enum class WebhookType { kMutate, kValidate };

// How one review ended, for metrics.
enum class ReviewResult {
  kAllowed,     // admitted unchanged
  kPatched,     // admitted with a JSON Patch (mutate)
  kDenied,      // allowed: false (invalid or malformed object)
  kBadRequest,  // not an AdmissionReview we can answer: HTTP 400, no review
};

struct ReviewOutcome {
  int http_status = 200;
  std::string content_type = "application/json";
  std::string body;
  ReviewResult result = ReviewResult::kAllowed;
  std::string operation;  // CREATE | UPDATE | DELETE | CONNECT, empty when unknown
};

// `options` apply to the validating webhook (limits, the Pod schema templates are checked
// against); the mutating webhook ignores them. A body nesting JSON deeper than
// `max_json_depth` is answered 400, by both, as soon as the parser reaches that depth.
ReviewOutcome Review(WebhookType type, const api::KindDescriptor& kind, std::string_view body,
                     const api::ValidationOptions& options = {},
                     int max_json_depth = api::kDefaultMaxJsonDepth);

}  // namespace kubedl::webhook
