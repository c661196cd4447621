#include "kubedl/api/json_patch_from_text.h"

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kubedl::api {
namespace {

// One RFC 6901 reference token.
std::string EscapePointerToken(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Receives the SAX events of the whole document. Outside the member it only follows the keys
// leading to it; inside, every value is compared with its counterpart in the target as it
// arrives, and each difference becomes one operation.
class PatchBuilder {
 public:
  PatchBuilder(const std::vector<std::string>& member_path, const Json& target)
      : member_path_(member_path), target_(target) {}

  bool null() { return Primitive(Json(nullptr)); }
  bool boolean(bool value) { return Primitive(Json(value)); }
  bool number_integer(Json::number_integer_t value) { return Primitive(Json(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return Primitive(Json(value)); }
  bool number_float(Json::number_float_t value, const Json::string_t&) {
    return Primitive(Json(value));
  }
  bool string(Json::string_t& value) { return Primitive(Json(std::move(value))); }
  bool binary(Json::binary_t&) { return Primitive(Json()); }

  bool start_object(std::size_t) { return Open(/*is_array=*/false); }
  bool start_array(std::size_t) { return Open(/*is_array=*/true); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(Json::string_t& key) {
    if (skip_depth_ > 0) return true;
    if (diff_.empty()) {
      outer_.back().key = key;
      return true;
    }
    DiffFrame& frame = diff_.back();
    auto it = frame.target->find(key);
    std::string path = absl::StrCat(frame.path, "/", EscapePointerToken(key));
    if (it == frame.target->end()) {
      Emit("remove", path, nullptr);
      next_ = Next{nullptr, std::move(path)};
      return true;
    }
    if (!frame.matched.insert(&*it).second) return Fail("a key is repeated");
    next_ = Next{&*it, std::move(path)};
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    return Fail(e.what());
  }

  absl::StatusOr<std::string> Finish() && {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    if (!member_seen_) return absl::NotFoundError("the document has no such member");
    patch_ += ']';
    return std::move(patch_);
  }

 private:
  struct OuterFrame {
    bool is_array = false;
    bool on_path = false;  // this container is the member path's prefix so far
    std::string key;       // the key of the value that comes next
  };
  struct DiffFrame {
    const Json* target = nullptr;
    bool is_array = false;
    std::string path;
    std::unordered_set<const Json*> matched;  // target members met in the text (objects)
    std::size_t count = 0;                     // elements met in the text (arrays)
  };
  // The counterpart of the value that comes next; nullptr: none, skip it.
  struct Next {
    const Json* target = nullptr;
    std::string path;
  };

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  void Emit(const char* op, const std::string& path, const Json* value) {
    patch_ += patch_.size() == 1 ? "" : ",";
    absl::StrAppend(&patch_, R"({"op":")", op, R"(","path":)", Dump(Json(path)));
    if (value != nullptr) absl::StrAppend(&patch_, R"(,"value":)", Dump(*value));
    patch_ += '}';
  }

  // Where the value now starting belongs. False outside the member.
  bool Locate(Next* next) {
    if (!diff_.empty()) {
      DiffFrame& frame = diff_.back();
      if (!frame.is_array) {
        *next = std::move(next_);
        next_ = Next{};
        return true;
      }
      std::size_t index = frame.count++;
      std::string path = absl::StrCat(frame.path, "/", index);
      // Elements beyond the target's end are removed when the array closes.
      *next = Next{index < frame.target->size() ? &(*frame.target)[index] : nullptr,
                   std::move(path)};
      return true;
    }
    // The document's root is on the path when the path is empty; any other value when its
    // container is on the path and it sits under the next key of the path.
    bool at_member = outer_.empty()
                         ? member_path_.empty()
                         : outer_.back().on_path && !outer_.back().is_array &&
                               outer_.size() == member_path_.size() &&
                               outer_.back().key == member_path_.back();
    if (!at_member) return false;
    if (member_seen_) return Fail("the member is repeated");
    member_seen_ = true;
    *next = Next{&target_, ""};
    return true;
  }

  bool OnPathBelow() const {
    if (outer_.empty()) return true;
    const OuterFrame& top = outer_.back();
    return top.on_path && !top.is_array && outer_.size() < member_path_.size() &&
           top.key == member_path_[outer_.size() - 1];
  }

  bool Primitive(const Json& value) {
    if (skip_depth_ > 0) return true;
    Next next;
    if (!Locate(&next)) return error_.empty();
    if (next.target != nullptr && *next.target != value) Emit("replace", next.path, next.target);
    return true;
  }

  bool Open(bool is_array) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    Next next;
    if (!Locate(&next)) {
      if (!error_.empty()) return false;
      outer_.push_back(OuterFrame{is_array, OnPathBelow(), ""});
      return true;
    }
    if (next.target == nullptr) {
      skip_depth_ = 1;
      return true;
    }
    if (next.target->is_array() != is_array || next.target->is_object() == is_array) {
      Emit("replace", next.path, next.target);
      skip_depth_ = 1;
      return true;
    }
    DiffFrame frame;
    frame.target = next.target;
    frame.is_array = is_array;
    frame.path = std::move(next.path);
    diff_.push_back(std::move(frame));
    return true;
  }

  bool Close() {
    if (skip_depth_ > 0) {
      --skip_depth_;
      return true;
    }
    if (diff_.empty()) {
      outer_.pop_back();
      return true;
    }
    DiffFrame& frame = diff_.back();
    const Json& target = *frame.target;
    if (frame.is_array) {
      // Highest index first, so that each removal leaves the next one's index valid.
      for (std::size_t i = frame.count; i > target.size(); --i) {
        Emit("remove", absl::StrCat(frame.path, "/", i - 1), nullptr);
      }
      for (std::size_t i = frame.count; i < target.size(); ++i) {
        Emit("add", absl::StrCat(frame.path, "/-"), &target[i]);
      }
    } else if (frame.matched.size() < target.size()) {
      for (auto it = target.begin(); it != target.end(); ++it) {
        if (frame.matched.count(&*it) == 0) {
          Emit("add", absl::StrCat(frame.path, "/", EscapePointerToken(it.key())), &*it);
        }
      }
    }
    diff_.pop_back();
    return true;
  }

  const std::vector<std::string>& member_path_;
  const Json& target_;
  std::vector<OuterFrame> outer_;
  std::vector<DiffFrame> diff_;
  Next next_;
  int skip_depth_ = 0;
  bool member_seen_ = false;
  std::string error_;
  std::string patch_ = "[";
};

}  // namespace

absl::StatusOr<std::string> JsonPatchFromText(std::string_view document,
                                              const std::vector<std::string>& member_path,
                                              const Json& target) {
  PatchBuilder builder(member_path, target);
  Json::sax_parse(document.begin(), document.end(), &builder);
  return std::move(builder).Finish();
}

}  // namespace kubedl::api
