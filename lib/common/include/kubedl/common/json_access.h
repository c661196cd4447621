#pragma once
// Reads of JSON that a user or a peer wrote, which never throw: a missing key or a value of
// another type gives nullptr, nullopt or the fallback. nlohmann's get<T>(), value() and
// operator[] throw (or, on a const object, are undefined) in those cases; one malformed job or
// pod must not stop a service. Works for both nlohmann::json (kube::Object) and
// nlohmann::ordered_json (api::Json).
//
//   if (const auto* port = common::Member(container, "containerPort")) ...
//   if (const auto* status = common::Member(pod, "status")) phase = common::StringOr(*status, "phase");
//   std::optional<int64_t> port = common::IntAt(p, "containerPort");
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace kubedl::common {

// The value of `key` when `obj` is an object that has it; nullptr otherwise.
template <class J>
const J* Member(const J& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// obj[k0][k1]... when every step is an object that has the key; nullptr otherwise.
template <class J>
const J* MemberPath(const J& obj, std::initializer_list<std::string_view> keys) {
  const J* at = &obj;
  for (std::string_view key : keys) {
    at = Member(*at, key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

// The string at `key`, or `fallback` when it is missing or not a string.
template <class J>
std::string StringOr(const J& obj, std::string_view key, std::string_view fallback = "") {
  const J* v = Member(obj, key);
  return v != nullptr && v->is_string() ? v->template get_ref<const std::string&>()
                                        : std::string(fallback);
}

// `v` as an int64 when it is an integer that fits; nullopt otherwise (strings, floats, ...).
template <class J>
std::optional<int64_t> AsInt(const J& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.template get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.template get<int64_t>();
  return std::nullopt;
}

template <class J>
std::optional<int64_t> IntAt(const J& obj, std::string_view key) {
  const J* v = Member(obj, key);
  return v == nullptr ? std::nullopt : AsInt(*v);
}

template <class J>
int64_t IntOr(const J& obj, std::string_view key, int64_t fallback) {
  return IntAt(obj, key).value_or(fallback);
}

template <class J>
bool BoolOr(const J& obj, std::string_view key, bool fallback) {
  const J* v = Member(obj, key);
  return v != nullptr && v->is_boolean() ? v->template get<bool>() : fallback;
}

}  // namespace kubedl::common
