#pragma once
// Private to lib/api: the typed-field reader of the JSON codec, and the visitors that read and
// write a struct from ONE list of its JSON fields. A struct lists its fields once, in JSON order,
// as a specialization of JsonFields:
//
//   template <> struct JsonFields<SchedulingPolicy> {
//     template <class V, class S> static void Visit(V&& v, S& s) {
//       v("minAvailable", s.min_available);  ...
//     }
//   };
//
// and ReadFields / WriteFields give its reader and writer: a member std::optional<int64_t |
// std::string | bool> is a typed scalar, std::optional<Json> an object kept as written,
// std::optional<RawJson> any value kept as written,
// std::optional<T> and std::vector<T> (T with JsonFields) a nested object and an array of them,
// a plain std::string a string that defaults to "".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kubedl/api/field_error.h"
#include "kubedl/api/json.h"

namespace kubedl::api::internal {

std::string JoinPath(const std::string& parent, std::string_view key);

// Reads typed fields of one object, recording a FieldError for each wrongly-typed one.
class FieldReader {
 public:
  explicit FieldReader(FieldErrors* errors) : errors_(errors) {}

  const Json* Get(const Json& obj, std::string_view key);
  std::optional<int64_t> Int(const Json& obj, std::string_view key, const std::string& path);
  std::optional<std::string> String(const Json& obj, std::string_view key,
                                    const std::string& path);
  std::optional<bool> Bool(const Json& obj, std::string_view key, const std::string& path);
  const Json* Object(const Json& obj, std::string_view key, const std::string& path);
  const Json* Array(const Json& obj, std::string_view key, const std::string& path);
  void TypeError(const std::string& path, std::string_view key, const Json& v, std::string what);

 private:
  // Records "must be of type <type>"; nullptr.
  const Json* Mistyped(const std::string& path, std::string_view key, const Json& v,
                       const char* type);

  FieldErrors* errors_;
};

// Writes `value` at `key` unless the same value is already there (so numbers keep the exact
// representation they were parsed with); nullopt removes the key.
template <class T>
void Put(Json& obj, const char* key, const std::optional<T>& value) {
  if (!value) {
    obj.erase(key);
    return;
  }
  Json v = *value;
  auto it = obj.find(key);
  if (it == obj.end() || *it != v) obj[key] = std::move(v);
}

// obj[key], made an object when it is not one.
Json& ObjectAt(Json& obj, const char* key);

template <class T>
struct JsonFields;  // specialized by each struct the codec reads field by field

template <class T>
void ReadFields(FieldReader& r, const Json& obj, const std::string& path, T& out);
template <class T>
void WriteFields(Json& obj, const T& in);

class ReadVisitor {
 public:
  ReadVisitor(FieldReader& r, const Json& obj, std::string path)
      : r_(r), obj_(obj), path_(std::move(path)) {}

  void operator()(const char* key, std::optional<int64_t>& f) { f = r_.Int(obj_, key, path_); }
  void operator()(const char* key, std::optional<std::string>& f) {
    f = r_.String(obj_, key, path_);
  }
  void operator()(const char* key, std::optional<bool>& f) { f = r_.Bool(obj_, key, path_); }
  void operator()(const char* key, std::string& f) {
    f = r_.String(obj_, key, path_).value_or("");
  }
  void operator()(const char* key, std::optional<Json>& f) {
    if (const Json* v = r_.Object(obj_, key, path_)) f = *v;
  }
  void operator()(const char* key, std::optional<RawJson>& f) {
    if (const Json* v = r_.Get(obj_, key)) f = RawJson{*v};
  }
  template <class T>
  void operator()(const char* key, std::optional<T>& f) {
    if (const Json* v = r_.Object(obj_, key, path_)) {
      ReadFields(r_, *v, JoinPath(path_, key), f.emplace());
    }
  }
  template <class T>
  void operator()(const char* key, std::vector<T>& f) {
    const Json* items = r_.Array(obj_, key, path_);
    if (items == nullptr) return;
    const std::string array_path = JoinPath(path_, key);
    for (size_t i = 0; i < items->size(); ++i) {
      const Json& item = (*items)[i];
      std::string index = "[" + std::to_string(i) + "]";
      if (!item.is_object()) {
        r_.TypeError(array_path, index, item, "must be of type object");
        continue;
      }
      ReadFields(r_, item, array_path + index, f.emplace_back());
    }
  }

 private:
  FieldReader& r_;
  const Json& obj_;
  std::string path_;
};

class WriteVisitor {
 public:
  explicit WriteVisitor(Json& obj) : obj_(obj) {}

  void operator()(const char* key, const std::optional<int64_t>& f) { Put(obj_, key, f); }
  void operator()(const char* key, const std::optional<std::string>& f) { Put(obj_, key, f); }
  void operator()(const char* key, const std::optional<bool>& f) { Put(obj_, key, f); }
  void operator()(const char* key, const std::optional<Json>& f) { Put(obj_, key, f); }
  void operator()(const char* key, const std::optional<RawJson>& f) {
    Put(obj_, key, f ? std::optional<Json>(f->value) : std::nullopt);
  }
  void operator()(const char* key, const std::string& f) { obj_[key] = f; }
  template <class T>
  void operator()(const char* key, const std::optional<T>& f) {
    if (f) {
      WriteFields(ObjectAt(obj_, key), *f);
    } else {
      obj_.erase(key);
    }
  }
  // The whole array, replaced when it differs; kept when absent and empty.
  template <class T>
  void operator()(const char* key, const std::vector<T>& f) {
    if (f.empty() && !obj_.contains(key)) return;
    Json items = Json::array();
    for (const T& item : f) WriteFields(items.emplace_back(Json::object()), item);
    if (!obj_.contains(key) || obj_[key] != items) obj_[key] = std::move(items);
  }

 private:
  Json& obj_;
};

template <class T>
void ReadFields(FieldReader& r, const Json& obj, const std::string& path, T& out) {
  JsonFields<T>::Visit(ReadVisitor(r, obj, path), out);
}

template <class T>
void WriteFields(Json& obj, const T& in) {
  JsonFields<T>::Visit(WriteVisitor(obj), in);
}

}  // namespace kubedl::api::internal
