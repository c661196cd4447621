#include "kubedl/api/json_parse.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kubedl::api {
namespace {

// Objects this small find a repeated key faster by scanning than by hashing.
constexpr std::size_t kScanLimit = 16;

class DomBuilder {
 public:
  bool null() { return Add(Json(nullptr)); }
  bool boolean(bool value) { return Add(Json(value)); }
  bool number_integer(Json::number_integer_t value) { return Add(Json(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return Add(Json(value)); }
  bool number_float(Json::number_float_t value, const Json::string_t&) {
    return Add(Json(value));
  }
  bool string(Json::string_t& value) { return Add(Json(std::move(value))); }
  bool binary(Json::binary_t& value) { return Add(Json::binary(std::move(value))); }

  bool start_object(std::size_t) {
    open_.push_back(Frame{/*is_object=*/true, {}, {}, {}});
    return true;
  }
  bool key(Json::string_t& key) {
    open_.back().key = std::move(key);
    return true;
  }
  bool end_object() {
    Json object(Json::value_t::object);
    Place(open_.back().members, object.get_ref<Json::object_t&>());
    open_.pop_back();
    return Add(std::move(object));
  }
  bool start_array(std::size_t) {
    open_.push_back(Frame{/*is_object=*/false, {}, {}, {}});
    return true;
  }
  bool end_array() {
    Json array(Json::value_t::array);
    array.get_ref<Json::array_t&>() = std::move(open_.back().elements);
    open_.pop_back();
    return Add(std::move(array));
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) {
    error_ = absl::StrCat("not JSON at byte ", position, ": ", e.what());
    return false;
  }

  absl::StatusOr<Json> Finish() && {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    return std::move(root_);
  }

 private:
  using Member = std::pair<std::string, Json>;  // a non-const key: moves when the vector grows
  struct Frame {
    bool is_object;
    std::vector<Member> members;  // objects
    std::string key;              // objects: the key of the value being read
    Json::array_t elements;       // arrays
  };

  bool Add(Json&& value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return true;
    }
    Frame& frame = open_.back();
    if (frame.is_object) {
      frame.members.emplace_back(std::move(frame.key), std::move(value));
    } else {
      frame.elements.push_back(std::move(value));
    }
    return true;
  }

  // Moves the members into `out` (empty), in order; a repeated key keeps its first place and
  // takes its last value.
  static void Place(std::vector<Member>& members, Json::object_t& out) {
    std::vector<bool> dropped(members.size(), false);
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

  std::vector<Frame> open_;
  Json root_;
  std::string error_;
};

}  // namespace

absl::StatusOr<Json> ParseJson(std::string_view text) {
  DomBuilder builder;
  Json::sax_parse(text.begin(), text.end(), &builder);
  return std::move(builder).Finish();
}

}  // namespace kubedl::api
