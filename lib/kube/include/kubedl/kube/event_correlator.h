#pragma once

// Decides which Event a recorded event counts into, as client-go's EventCorrelator does: an
// identical event (same object, type, reason and message) bumps the count of the Event written
// before; once one object has had `max_similar` different messages with the same type and reason
// within `window`, further ones are combined into a single Event whose message starts with
// "(combined from similar events): " and whose count keeps growing. The window restarts when an
// object has been quiet for `window`. An object that keeps
// changing a message therefore cannot create Events without bound.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kubedl::kube {

// What an Event is about: the involvedObject reference, without the rest of the object.
struct EventSubject {
  std::string kind, api_version, namespace_, name, uid, resource_version;
};

// Identifies an Event by a 64-bit hash of its object, type, reason and (unless combined)
// message, so that the caches hold 8 bytes per Event instead of its strings. With the few
// thousand Events remembered, two sharing a key is about a one-in-10^12 chance; it would count
// two Events as one.
using EventKey = uint64_t;

struct CorrelatedEvent {
  EventKey key = 0;          // identifies the Event this one counts into
  std::string message;       // the message that Event carries
  EventKey similar_key = 0;  // the Event it would count into if combined
  bool combined = false;
};

struct EventCorrelatorOptions {
  size_t max_similar = 10;              // different messages before they are combined
  absl::Duration window = absl::Minutes(10);  // of quiet, after which messages count anew
  size_t cache_limit = 4096;            // objects remembered; the oldest half is forgotten
};

inline constexpr absl::string_view kCombinedEventPrefix = "(combined from similar events): ";

class EventCorrelator {
 public:
  explicit EventCorrelator(EventCorrelatorOptions options = {}) : options_(options) {}

  CorrelatedEvent Correlate(const EventSubject& subject, absl::string_view type,
                            absl::string_view reason, absl::string_view message, absl::Time now);

  size_t cached() const { return similar_.size(); }

 private:
  struct Similar {
    absl::Time last_seen;
    absl::flat_hash_set<uint64_t> messages;  // hashes, at most max_similar
  };
  void Forget(absl::Time now);

  EventCorrelatorOptions options_;
  absl::flat_hash_map<EventKey, Similar> similar_;  // by object, type and reason
};

}  // namespace kubedl::kube
