#pragma once

// Records core/v1 Events about objects, correlated as client-go's recorder does
// (event_correlator.h): a repeated event (same object, type, reason and message) bumps the
// existing Event's count and lastTimestamp, and past 10 different messages for one object, type
// and reason within 10 minutes they are combined into one Event. Recording never blocks the
// caller on the API server: events are written by a background thread; occurrences recorded
// while their Event waits are counted into it. When `queue_limit` Events wait, a new one is
// combined into its object's and reason's combined Event (at most `queue_limit` more of those);
// only beyond that is it dropped, with a log line. A waiting Event keeps the object's reference,
// not the object, and Events recorded in a row for one object, type and reason share one copy of
// it, so the queue's memory is bounded by the limit (about a hundred bytes and the message each).

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
  size_t queue_limit = 4096;  // Events waiting to be written (and as many combined ones)
  size_t cache_limit = 4096;  // Events written, and objects correlated, remembered
};

std::unique_ptr<EventRecorder> NewEventRecorder(Client& client, EventRecorderOptions options,
                                                Clock& clock = RealClock());

}  // namespace kubedl::kube
