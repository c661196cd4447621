#pragma once

// Records core/v1 Events about objects. Repeated events (same object, type, reason and
// message) are aggregated: the existing Event's count and lastTimestamp are bumped instead of
// creating a new one, as kubectl describe expects. Recording never blocks the caller on the
// API server: events are written by a background thread, and dropped (with a log line) if
// more than `queue_limit` are waiting.

#include <memory>
#include <string>

#include "kubedl/kube/clock.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::kube {

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // `type` is "Normal" or "Warning"; `involved` is the object the event is about (its kind,
  // apiVersion, namespace, name, uid and resourceVersion are referenced).
  virtual void Record(const Object& involved, const std::string& type, const std::string& reason,
                      const std::string& message) = 0;
  // Waits until every recorded event has been written (for tests and shutdown).
  virtual void Flush() = 0;
};

struct EventRecorderOptions {
  std::string component = "kubedl";  // source.component and reportingComponent
  std::string host;                  // source.host / reportingInstance
  size_t queue_limit = 1000;
};

std::unique_ptr<EventRecorder> NewEventRecorder(Client& client, EventRecorderOptions options,
                                                Clock& clock = RealClock());

}  // namespace kubedl::kube
