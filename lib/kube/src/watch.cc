#include "kubedl/kube/watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kubedl/kube/errors.h"

namespace kubedl::kube {

absl::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded: return "ADDED";
    case WatchEventType::kModified: return "MODIFIED";
    case WatchEventType::kDeleted: return "DELETED";
    case WatchEventType::kBookmark: return "BOOKMARK";
    case WatchEventType::kError: return "ERROR";
  }
  return "UNKNOWN";
}

absl::Status WatchEvent::ErrorStatus() const {
  if (type != WatchEventType::kError) return absl::OkStatus();
  return StatusFromStatusObject(object.dump());
}

absl::StatusOr<WatchEvent> ParseWatchEvent(absl::string_view line,
                                           const std::vector<std::string>& skip_object_fields) {
  // Keys of the event are at depth 1, keys of its object at depth 2.
  Object::parser_callback_t skip = nullptr;
  if (!skip_object_fields.empty()) {
    skip = [&skip_object_fields](int depth, Object::parse_event_t event, Object& parsed) {
      if (event != Object::parse_event_t::key || depth != 2 || !parsed.is_string()) return true;
      const std::string& key = parsed.get_ref<const std::string&>();
      return std::find(skip_object_fields.begin(), skip_object_fields.end(), key) ==
             skip_object_fields.end();
    };
  }
  Object j = Object::parse(line, skip, false);
  if (!j.is_object()) {
    return absl::DataLossError(
        absl::StrCat("watch event is not JSON: ", line.substr(0, 200)));
  }
  auto type = j.find("type");
  auto object = j.find("object");
  if (type == j.end() || !type->is_string() || object == j.end()) {
    return absl::DataLossError(absl::StrCat("watch event lacks type/object: ",
                                            line.substr(0, 200)));
  }
  const std::string& t = type->get_ref<const std::string&>();
  WatchEvent event;
  if (t == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (t == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (t == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (t == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (t == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return absl::DataLossError(absl::StrCat("unknown watch event type ", t));
  }
  event.object = std::move(*object);
  return event;
}

}  // namespace kubedl::kube
