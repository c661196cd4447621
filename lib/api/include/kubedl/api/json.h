#pragma once
#include "nlohmann/json.hpp"

namespace kubedl::api {
// Objects keep the key order the user wrote, so writing one back changes only what we changed.
using Json = nlohmann::ordered_json;

// A value kept exactly as written, whatever its JSON type: validation, not the codec, says what
// it must be (elasticPolicy.metrics: autoscaling/v2 MetricSpecs that nothing here interprets).
struct RawJson {
  Json value;
  bool operator==(const RawJson&) const = default;
};
}  // namespace kubedl::api
