#pragma once

namespace kubedl::api {

// How deep a request body may nest objects and arrays (ParseJson's `max_depth`): deep enough for
// any Kubernetes object (an AdmissionReview of a job nests about 15 levels), far below where the
// recursive copies and comparisons done on a parsed document later would hurt the stack.
inline constexpr int kDefaultMaxJsonDepth = 128;

}  // namespace kubedl::api
