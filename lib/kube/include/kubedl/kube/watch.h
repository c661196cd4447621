#pragma once

// One watch request: a stream of events for a resource.

#include <optional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kubedl/kube/object.h"

namespace kubedl::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

absl::string_view WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object; for kBookmark only metadata.resourceVersion is meaningful; for kError a
  // metav1.Status (see ErrorStatus()).
  Object object;

  // For kError events: the status as an absl::Status (IsGone() for 410 Expired).
  absl::Status ErrorStatus() const;
};

// Parses one line of a watch stream. Top-level fields of the event's object named in
// `skip_object_fields` are skipped by the parser, never built.
absl::StatusOr<WatchEvent> ParseWatchEvent(absl::string_view line,
                                           const std::vector<std::string>& skip_object_fields = {});

class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // The next event; nullopt when the server closed the stream normally (re-watch from the last
  // resourceVersion). DeadlineExceeded when nothing arrived for the idle timeout; Cancelled
  // after Cancel(); Unavailable when the connection broke.
  virtual absl::StatusOr<std::optional<WatchEvent>> Next() = 0;
  // Makes a blocked or later Next() return Cancelled. Safe from any thread.
  virtual void Cancel() = 0;
};

}  // namespace kubedl::kube
