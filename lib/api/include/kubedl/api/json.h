#pragma once
#include "nlohmann/json.hpp"

namespace kubedl::api {
// Objects keep the key order the user wrote, so writing one back changes only what we changed.
using Json = nlohmann::ordered_json;
}  // namespace kubedl::api
