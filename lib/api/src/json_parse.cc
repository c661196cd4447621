#include "kubedl/api/json_parse.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "simd_document.h"

namespace kubedl::api {
namespace {

// Objects this small find a repeated key faster by scanning than by hashing.
constexpr std::size_t kScanLimit = 16;

using Member = std::pair<std::string, Json>;  // a non-const key: moves when the vector grows

// Moves the members into `out` (empty), in order; a repeated key keeps its first place and
// takes its last value. `dropped` is scratch, kept by the caller so it is allocated once.
void PlaceMembers(std::vector<Member>& members, Json::object_t& out, std::vector<bool>& dropped) {
  dropped.assign(members.size(), false);
  if (members.size() <= kScanLimit) {
    for (std::size_t i = 1; i < members.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (!dropped[j] && members[j].first == members[i].first) {
          members[j].second = std::move(members[i].second);
          dropped[i] = true;
          break;
        }
      }
    }
  } else {
    absl::flat_hash_map<std::string_view, std::size_t> first;
    first.reserve(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      auto [it, inserted] = first.try_emplace(members[i].first, i);
      if (!inserted) {
        members[it->second].second = std::move(members[i].second);
        dropped[i] = true;
      }
    }
  }
  out.reserve(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (!dropped[i]) out.emplace_back(std::move(members[i].first), std::move(members[i].second));
  }
  members.clear();
}

absl::Status TooDeep(int max_depth) {
  return absl::OutOfRangeError(absl::StrCat("nests JSON more than ", max_depth, " levels deep"));
}

class DomBuilder {
 public:
  explicit DomBuilder(int max_depth) : max_depth_(max_depth) {}

  bool null() { return Add(Json(nullptr)); }
  bool boolean(bool value) { return Add(Json(value)); }
  bool number_integer(Json::number_integer_t value) { return Add(Json(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return Add(Json(value)); }
  bool number_float(Json::number_float_t value, const Json::string_t&) {
    return Add(Json(value));
  }
  bool string(Json::string_t& value) { return Add(Json(std::move(value))); }
  bool binary(Json::binary_t& value) { return Add(Json::binary(std::move(value))); }

  bool start_object(std::size_t) { return Open(/*is_object=*/true); }
  bool key(Json::string_t& key) {
    open_[depth_ - 1].key = std::move(key);
    return true;
  }
  bool end_object() {
    Json object(Json::value_t::object);
    Place(open_[--depth_].members, object.get_ref<Json::object_t&>());
    return Add(std::move(object));
  }
  bool start_array(std::size_t) { return Open(/*is_object=*/false); }
  bool end_array() {
    Json array(Json::value_t::array);
    Json::array_t& elements = open_[--depth_].elements;
    // Moved into an exact fit: the frame keeps its capacity for the next array this deep.
    Json::array_t& out = array.get_ref<Json::array_t&>();
    out.reserve(elements.size());
    for (Json& element : elements) out.push_back(std::move(element));
    elements.clear();
    return Add(std::move(array));
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) {
    error_ = absl::StrCat("not JSON at byte ", position, ": ", e.what());
    return false;
  }

  absl::StatusOr<Json> Finish() && {
    if (too_deep_) return TooDeep(max_depth_);
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    return std::move(root_);
  }

 private:
  struct Frame {
    bool is_object = false;
    std::vector<Member> members;  // objects
    std::string key;              // objects: the key of the value being read
    Json::array_t elements;       // arrays
  };

  // Frames are reused by depth, so their vectors' capacity serves every object and array read
  // at that depth after the first.
  bool Open(bool is_object) {
    if (max_depth_ > 0 && static_cast<int>(depth_) >= max_depth_) {
      too_deep_ = true;
      return false;  // ends the parse here
    }
    if (depth_ == open_.size()) open_.emplace_back();
    open_[depth_++].is_object = is_object;
    return true;
  }

  bool Add(Json&& value) {
    if (depth_ == 0) {
      root_ = std::move(value);
      return true;
    }
    Frame& frame = open_[depth_ - 1];
    if (frame.is_object) {
      frame.members.emplace_back(std::move(frame.key), std::move(value));
    } else {
      frame.elements.push_back(std::move(value));
    }
    return true;
  }

  void Place(std::vector<Member>& members, Json::object_t& out) {
    PlaceMembers(members, out, dropped_);
  }

  const int max_depth_;
  std::vector<Frame> open_;  // open_[0, depth_) are the objects and arrays being read
  std::size_t depth_ = 0;
  bool too_deep_ = false;
  std::vector<bool> dropped_;
  Json root_;
  std::string error_;
};


// The same Json from text simdjson has parsed: ParseJson's fast path. An object whose keys are
// all different (what any API server sends) is built in place; one that repeats a key goes
// through PlaceMembers like the nlohmann path's.
class SimdBuilder {
 public:
  explicit SimdBuilder(int max_depth) : max_depth_(max_depth) {}

  // False when the text nests deeper than max_depth.
  bool Build(simdjson::dom::element element, int depth, Json& out) {
    switch (element.type()) {
      case simdjson::dom::element_type::OBJECT:
        if (max_depth_ > 0 && depth >= max_depth_) return false;
        return BuildObject(element.get_object().value_unsafe(), depth + 1, out);
      case simdjson::dom::element_type::ARRAY: {
        if (max_depth_ > 0 && depth >= max_depth_) return false;
        simdjson::dom::array array = element.get_array().value_unsafe();
        out = Json(Json::value_t::array);
        Json::array_t& elements = out.get_ref<Json::array_t&>();
        elements.reserve(array.size());
        for (simdjson::dom::element item : array) {
          if (!Build(item, depth + 1, elements.emplace_back())) return false;
        }
        return true;
      }
      default:
        out = ScalarJson(element);
        return true;
    }
  }

 private:
  static bool HasRepeatedKey(simdjson::dom::object object) {
    const std::size_t size = object.size();
    if (size <= 1) return false;
    if (size <= kScanLimit) {
      std::string_view keys[kScanLimit];
      std::size_t n = 0;
      for (simdjson::dom::key_value_pair field : object) {
        for (std::size_t j = 0; j < n; ++j) {
          if (keys[j] == field.key) return true;
        }
        keys[n++] = field.key;
      }
      return false;
    }
    absl::flat_hash_set<std::string_view> seen;
    seen.reserve(size);
    for (simdjson::dom::key_value_pair field : object) {
      if (!seen.insert(field.key).second) return true;
    }
    return false;
  }

  bool BuildObject(simdjson::dom::object object, int depth, Json& out) {
    out = Json(Json::value_t::object);
    Json::object_t& members = out.get_ref<Json::object_t&>();
    if (!HasRepeatedKey(object)) {
      members.reserve(object.size());
      for (simdjson::dom::key_value_pair field : object) {
        members.emplace_back(std::string(field.key), Json());
        if (!Build(field.value, depth, members.back().second)) return false;
      }
      return true;
    }
    std::vector<Member> gathered;
    gathered.reserve(object.size());
    for (simdjson::dom::key_value_pair field : object) {
      gathered.emplace_back(std::string(field.key), Json());
      if (!Build(field.value, depth, gathered.back().second)) return false;
    }
    PlaceMembers(gathered, members, dropped_);
    return true;
  }

  const int max_depth_;
  std::vector<bool> dropped_;
};

}  // namespace

absl::StatusOr<Json> ParseJson(std::string_view text, int max_depth) {
  // simdjson reads the text several times faster than nlohmann's lexer; what it refuses (a
  // number beyond 64 bits, which nlohmann reads as a double, and all that is not JSON) goes to
  // the nlohmann path, so acceptance and messages are nlohmann's.
  {
    SimdDocument document(text);
    if (document.ok()) {
      Json out;
      if (!SimdBuilder(max_depth).Build(document.root(), 0, out)) return TooDeep(max_depth);
      return out;
    }
  }
  DomBuilder builder(max_depth);
  Json::sax_parse(text.begin(), text.end(), &builder);
  return std::move(builder).Finish();
}

}  // namespace kubedl::api
