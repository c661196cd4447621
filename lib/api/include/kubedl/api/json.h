#pragma once
#include <string>

#include "nlohmann/json.hpp"

namespace kubedl::api {
// Objects keep the key order the user wrote, so writing one back changes only what we changed.
using Json = nlohmann::ordered_json;

// object[key] (`object` must be an object), inserting null when the key is absent. A Json object
// is a vector of pairs with const keys, so a growing vector copies its values rather than moving
// them: inserting a key beside a large value (a container's env, a template) would copy that value
// whole. This grows the vector by moving every value over.
inline Json& MemberOf(Json& object, const std::string& key) {
  if (auto it = object.find(key); it != object.end()) return *it;
  Json::object_t& members = object.get_ref<Json::object_t&>();
  if (members.size() == members.capacity()) {
    Json::object_t grown;
    grown.reserve(2 * members.size() + 1);
    for (auto& [name, value] : members) grown.emplace_back(name, std::move(value));
    members.swap(grown);
  }
  return members.emplace_back(key, nullptr).second;
}

// A value kept exactly as written, whatever its JSON type: validation, not the codec, says what
// it must be (elasticPolicy.metrics: autoscaling/v2 MetricSpecs that nothing here interprets).
struct RawJson {
  Json value;
  bool operator==(const RawJson&) const = default;
};
}  // namespace kubedl::api
