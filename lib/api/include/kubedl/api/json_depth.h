#pragma once
#include <string_view>

namespace kubedl::api {

// Whether JSON text nests objects and arrays more than `max_depth` levels deep (brackets
// inside strings do not count). One pass, no recursion and no allocation, so it is safe to run
// on any body before parsing it: a parsed document that deep would overflow the stack of the
// recursive copies and comparisons done on it later. Does not check that the text is JSON.
bool JsonDeeperThan(std::string_view text, int max_depth);

// Deep enough for any Kubernetes object (an AdmissionReview of a job nests about 15 levels),
// far below where recursion hurts.
inline constexpr int kDefaultMaxJsonDepth = 128;

}  // namespace kubedl::api
