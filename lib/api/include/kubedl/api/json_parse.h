#pragma once
#include <string_view>

#include "absl/status/statusor.h"
#include "kubedl/api/json.h"

namespace kubedl::api {

// Parses JSON text into a Json, as Json::parse does (a repeated key keeps its first place and its
// last value), in time and memory linear in the text. Json::parse inserts each key into an
// ordered object one at a time: every insertion scans the keys before it (100,000 keys in one
// object: 18 s), and each time the object grows, the values already in it are deep-copied
// (a pod template's "containers" arrive before its other keys). Here an object's members are
// gathered first and placed once, at its end. Text simdjson accepts is read by simdjson (several
// times faster), recursing at most simdjson's 1,024 levels; anything else by nlohmann's SAX
// parser, iteratively, which gives the same acceptance and the messages.
//
// InvalidArgument, with the byte offset, when the text is not JSON; OutOfRange as soon as it
// nests objects and arrays more than `max_depth` (> 0) levels deep, before reading further.
absl::StatusOr<Json> ParseJson(std::string_view text, int max_depth = 0);

}  // namespace kubedl::api
