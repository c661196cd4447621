#include "kubedl/api/json_patch_from_text.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "simd_document.h"

namespace kubedl::api {
namespace {

std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The patch as it is written, one operation at a time.
class PatchText {
 public:
  void Emit(const char* op, std::string_view path, const Json* value) {
    text_ += text_.size() == 1 ? "" : ",";
    absl::StrAppend(&text_, R"({"op":")", op, R"(","path":)", Dump(Json(path)));
    if (value != nullptr) absl::StrAppend(&text_, R"(,"value":)", Dump(*value));
    text_ += '}';
  }
  std::string Finish() && {
    text_ += ']';
    return std::move(text_);
  }

 private:
  std::string text_ = "[";
};

// One RFC 6901 reference token, appended to `path`.
void AppendPointerToken(std::string_view key, std::string& path) {
  for (char c : key) {
    if (c == '~') {
      path += "~0";
    } else if (c == '/') {
      path += "~1";
    } else {
      path += c;
    }
  }
}

// Finds a target object's members by key. ordered_map's own find is a scan, and a scan for every
// key of the text makes an object with many keys quadratic; past a few members, a hash index.
class MemberIndex {
 public:
  static constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

  explicit MemberIndex(const Json::object_t& members) : members_(&members) {
    if (members.size() <= kScanUpTo) return;
    index_.reserve(members.size());
    std::size_t i = 0;
    for (auto it = members.begin(); it != members.end(); ++it, ++i) index_.emplace(it->first, i);
  }

  // The member's position, or kNotFound.
  std::size_t Find(std::string_view key) const {
    if (index_.empty()) {
      std::size_t i = 0;
      for (auto it = members_->begin(); it != members_->end(); ++it, ++i) {
        if (it->first == key) return i;
      }
      return kNotFound;
    }
    auto it = index_.find(key);
    return it == index_.end() ? kNotFound : it->second;
  }

 private:
  static constexpr std::size_t kScanUpTo = 16;
  const Json::object_t* members_;
  absl::flat_hash_map<std::string_view, std::size_t> index_;  // views of the members' keys
};

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
  // Compared in place: a Json of the string would allocate it once more.
  bool string(Json::string_t& value) {
    if (skip_depth_ > 0) return true;
    const Json* target = nullptr;
    if (!Locate(&target)) return error_.empty();
    if (target != nullptr &&
        (!target->is_string() || target->get_ref<const Json::string_t&>() != value)) {
      Emit("replace", path_, target);
    }
    return true;
  }
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
    const std::size_t index = frame.members->Find(key);
    path_.resize(frame.path_size);
    path_ += '/';
    AppendPointerToken(key, path_);
    if (index == MemberIndex::kNotFound) {
      Emit("remove", path_, nullptr);
      next_ = nullptr;
      return true;
    }
    if (frame.matched[index]) return Fail("a key is repeated");
    frame.matched[index] = true;
    ++frame.count;
    next_ = &(frame.target->get_ref<const Json::object_t&>().begin() + index)->second;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    return Fail(e.what());
  }

  absl::StatusOr<std::string> Finish() && {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    if (!member_seen_) return absl::NotFoundError("the document has no such member");
    return std::move(patch_).Finish();
  }

 private:
  struct OuterFrame {
    bool is_array = false;
    bool on_path = false;  // this container is the member path's prefix so far
    std::string key;       // the key of the value that comes next
  };
  // One container of the member being compared. Its JSON Pointer is path_'s first path_size
  // characters: one buffer serves every frame, extended and cut back as the text goes.
  struct DiffFrame {
    const Json* target = nullptr;
    bool is_array = false;
    std::size_t path_size = 0;
    std::optional<MemberIndex> members;  // objects
    std::vector<bool> matched;  // objects: the target's members met in the text, by position
    std::size_t count = 0;      // members (objects) or elements (arrays) met in the text
  };

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  void Emit(const char* op, std::string_view path, const Json* value) {
    patch_.Emit(op, path, value);
  }

  // Where the value now starting belongs: its counterpart in the target (nullptr: none, skip
  // it), its pointer left in path_. False outside the member.
  bool Locate(const Json** target) {
    if (!diff_.empty()) {
      DiffFrame& frame = diff_.back();
      if (!frame.is_array) {
        *target = next_;  // key() has set path_
        next_ = nullptr;
        return true;
      }
      std::size_t index = frame.count++;
      path_.resize(frame.path_size);
      absl::StrAppend(&path_, "/", index);
      // Elements beyond the target's end are removed when the array closes.
      *target = index < frame.target->size() ? &(*frame.target)[index] : nullptr;
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
    path_.clear();
    *target = &target_;
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
    const Json* target = nullptr;
    if (!Locate(&target)) return error_.empty();
    if (target != nullptr && *target != value) Emit("replace", path_, target);
    return true;
  }

  bool Open(bool is_array) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    const Json* target = nullptr;
    if (!Locate(&target)) {
      if (!error_.empty()) return false;
      outer_.push_back(OuterFrame{is_array, OnPathBelow(), ""});
      return true;
    }
    if (target == nullptr) {
      skip_depth_ = 1;
      return true;
    }
    if (target->is_array() != is_array || target->is_object() == is_array) {
      Emit("replace", path_, target);
      skip_depth_ = 1;
      return true;
    }
    DiffFrame& frame = diff_.emplace_back();
    frame.target = target;
    frame.is_array = is_array;
    frame.path_size = path_.size();
    if (!is_array) {
      frame.members.emplace(target->get_ref<const Json::object_t&>());
      frame.matched.assign(target->size(), false);
    }
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
    path_.resize(frame.path_size);
    if (frame.is_array) {
      // Highest index first, so that each removal leaves the next one's index valid.
      for (std::size_t i = frame.count; i > target.size(); --i) {
        Emit("remove", absl::StrCat(path_, "/", i - 1), nullptr);
      }
      for (std::size_t i = frame.count; i < target.size(); ++i) {
        Emit("add", absl::StrCat(path_, "/-"), &target[i]);
      }
    } else if (frame.count < target.size()) {
      const Json::object_t& members = target.get_ref<const Json::object_t&>();
      std::size_t i = 0;
      for (auto it = members.begin(); it != members.end(); ++it, ++i) {
        if (frame.matched[i]) continue;
        path_.resize(frame.path_size);
        path_ += '/';
        AppendPointerToken(it->first, path_);
        Emit("add", path_, &it->second);
      }
    }
    diff_.pop_back();
    return true;
  }

  const std::vector<std::string>& member_path_;
  const Json& target_;
  std::vector<OuterFrame> outer_;
  std::vector<DiffFrame> diff_;
  const Json* next_ = nullptr;  // objects: the counterpart of the value after the last key
  std::string path_;
  int skip_depth_ = 0;
  bool member_seen_ = false;
  std::string error_;
  PatchText patch_;
};

// The same patch from text simdjson has parsed: JsonPatchFromText's fast path. It walks the
// member and the target together and writes the operations in the order the SAX builder above
// meets them, so both give the same text.
class SimdPatch {
 public:
  explicit SimdPatch(const Json& target) : target_(target) {}

  absl::StatusOr<std::string> Run(simdjson::dom::element root,
                                  const std::vector<std::string>& member_path) && {
    simdjson::dom::element member = root;
    for (const std::string& key : member_path) {
      if (member.type() != simdjson::dom::element_type::OBJECT) {
        return absl::NotFoundError("the document has no such member");
      }
      bool found = false;
      const simdjson::dom::object object = member.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : object) {
        if (field.key != key) continue;
        if (found) return absl::InvalidArgumentError("the member is repeated");
        found = true;
        member = field.value;
      }
      if (!found) return absl::NotFoundError("the document has no such member");
    }
    if (!Diff(member, target_)) return absl::InvalidArgumentError("a key is repeated");
    return std::move(patch_).Finish();
  }

 private:
  // path_ holds the pointer of `text`; false when an object of the member repeats a key.
  bool Diff(simdjson::dom::element text, const Json& target) {
    switch (text.type()) {
      case simdjson::dom::element_type::OBJECT: {
        if (!target.is_object()) {
          patch_.Emit("replace", path_, &target);
          return true;
        }
        const Json::object_t& members = target.get_ref<const Json::object_t&>();
        const MemberIndex index_of(members);
        const std::size_t path_size = path_.size();
        std::vector<bool> matched(members.size(), false);
        std::size_t count = 0;
        const simdjson::dom::object object = text.get_object().value_unsafe();
        for (simdjson::dom::key_value_pair field : object) {
          path_.resize(path_size);
          path_ += '/';
          AppendPointerToken(field.key, path_);
          const std::size_t index = index_of.Find(field.key);
          if (index == MemberIndex::kNotFound) {
            patch_.Emit("remove", path_, nullptr);
            continue;
          }
          if (matched[index]) return false;
          matched[index] = true;
          ++count;
          if (!Diff(field.value, (members.begin() + index)->second)) return false;
        }
        if (count < members.size()) {
          std::size_t i = 0;
          for (auto it = members.begin(); it != members.end(); ++it, ++i) {
            if (matched[i]) continue;
            path_.resize(path_size);
            path_ += '/';
            AppendPointerToken(it->first, path_);
            patch_.Emit("add", path_, &it->second);
          }
        }
        path_.resize(path_size);
        return true;
      }
      case simdjson::dom::element_type::ARRAY: {
        if (!target.is_array()) {
          patch_.Emit("replace", path_, &target);
          return true;
        }
        const std::size_t path_size = path_.size();
        std::size_t count = 0;
        const simdjson::dom::array array = text.get_array().value_unsafe();
        for (simdjson::dom::element item : array) {
          const std::size_t index = count++;
          if (index >= target.size()) continue;  // removed below
          path_.resize(path_size);
          absl::StrAppend(&path_, "/", index);
          if (!Diff(item, target[index])) return false;
        }
        path_.resize(path_size);
        // Highest index first, so that each removal leaves the next one's index valid.
        for (std::size_t i = count; i > target.size(); --i) {
          patch_.Emit("remove", absl::StrCat(path_, "/", i - 1), nullptr);
        }
        for (std::size_t i = count; i < target.size(); ++i) {
          patch_.Emit("add", absl::StrCat(path_, "/-"), &target[i]);
        }
        return true;
      }
      case simdjson::dom::element_type::STRING:
        if (!target.is_string() ||
            target.get_ref<const Json::string_t&>() != text.get_string().value_unsafe()) {
          patch_.Emit("replace", path_, &target);
        }
        return true;
      default:
        if (target != ScalarJson(text)) patch_.Emit("replace", path_, &target);
        return true;
    }
  }

  const Json& target_;
  std::string path_;
  PatchText patch_;
};

}  // namespace

absl::StatusOr<std::string> JsonPatchFromText(std::string_view document,
                                              const std::vector<std::string>& member_path,
                                              const Json& target) {
  {
    SimdDocument parsed(document);
    if (parsed.ok()) return SimdPatch(target).Run(parsed.root(), member_path);
  }
  // Text simdjson refuses (a number beyond 64 bits that nlohmann reads) is streamed instead.
  PatchBuilder builder(member_path, target);
  Json::sax_parse(document.begin(), document.end(), &builder);
  return std::move(builder).Finish();
}

}  // namespace kubedl::api
