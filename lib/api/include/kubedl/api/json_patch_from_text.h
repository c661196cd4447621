#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kubedl/api/json.h"

namespace kubedl::api {

// The JSON Patch (RFC 6902), as JSON text, that turns the member at `member_path` of the JSON
// document `document` into `target`: "[]" when they are equal.
//
// Json::diff needs the original parsed beside the target, two trees of about six times the
// text each. This one streams through the original text instead, holding only the target, one
// frame per nesting level and the patch: the mutating webhook's memory per request stays a
// small multiple of the body.
//
// NotFound when the document has no such member; InvalidArgument when the text is not JSON or
// repeats a key along the way (the parsed document keeps the last value of a repeated key, which
// a single forward pass cannot know in time): the caller then falls back to Json::diff.
absl::StatusOr<std::string> JsonPatchFromText(std::string_view document,
                                              const std::vector<std::string>& member_path,
                                              const Json& target);

}  // namespace kubedl::api
