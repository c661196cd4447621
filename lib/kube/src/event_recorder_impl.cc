#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "glog/logging.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/event_correlator.h"
#include "kubedl/kube/event_recorder.h"

namespace kubedl::kube {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

EventSubject SubjectOf(const Object& involved) {
  return {involved.value("kind", ""),        involved.value("apiVersion", ""),
          Namespace(involved),               Name(involved),
          Uid(involved),                     ResourceVersion(involved)};
}

// What waiting Events have in common: their object, type and reason. A job's creates record one
// Event per pod or service in a row, so those share one origin instead of a copy each.
struct Origin {
  EventSubject subject;
  std::string type, reason;

  bool Is(const EventSubject& s, const std::string& t, const std::string& r) const {
    return subject.uid == s.uid && subject.resource_version == s.resource_version &&
           subject.name == s.name && subject.namespace_ == s.namespace_ &&
           subject.kind == s.kind && subject.api_version == s.api_version && type == t &&
           reason == r;
  }
};

// An Event waiting to be written: every occurrence recorded since it was queued, counted.
struct Pending {
  std::shared_ptr<const Origin> origin;
  std::string message;
  absl::Time first, last;
  int count = 0;
};

// What we know of an Event we wrote, to count further occurrences into it.
struct Written {
  std::string namespace_name;
  std::string name;
  int count = 0;
};

class EventRecorderImpl final : public EventRecorder {
 public:
  EventRecorderImpl(Client& client, EventRecorderOptions options, Clock& clock)
      : client_(client),
        options_(std::move(options)),
        clock_(clock),
        correlator_({.cache_limit = options_.cache_limit}),
        thread_([this] { Loop(); }) {}

  ~EventRecorderImpl() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void Record(const Object& involved, const std::string& type, const std::string& reason,
              const std::string& message) override {
    EventSubject subject = SubjectOf(involved);
    const absl::Time now = clock_.Now();
    std::lock_guard lock(mu_);
    CorrelatedEvent event = correlator_.Correlate(subject, type, reason, message, now);
    if (CountInto(event.key, event.message, now)) return;
    if (queue_.size() >= options_.queue_limit) {
      // Full: counted into one combined Event per object, type and reason instead, for which
      // a second queue_limit is kept; only beyond that is an event dropped.
      std::string combined = absl::StrCat(kCombinedEventPrefix, message);
      if (CountInto(event.similar_key, combined, now)) return;
      if (queue_.size() >= 2 * options_.queue_limit) {
        if (dropped_++ % 1000 == 0) {
          LOG(WARNING) << "event recorder: " << queue_.size()
                       << " Events wait to be written; dropped " << dropped_ << " so far, now "
                       << reason << " for " << subject.namespace_ << "/" << subject.name;
        }
        return;
      }
      event.key = event.similar_key;
      event.message = std::move(combined);
    }
    if (last_origin_ == nullptr || !last_origin_->Is(subject, type, reason)) {
      last_origin_ = std::make_shared<const Origin>(Origin{std::move(subject), type, reason});
    }
    pending_.emplace(event.key, Pending{last_origin_, std::move(event.message), now, now, 1});
    queue_.push_back(event.key);
    cv_.notify_all();
  }

  void Flush() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
  }

 private:
  // Counts an occurrence into the waiting Event `key`, if one waits.
  bool CountInto(EventKey key, std::string message, absl::Time now) {
    auto it = pending_.find(key);
    if (it == pending_.end()) return false;
    ++it->second.count;
    it->second.last = now;
    it->second.message = std::move(message);
    return true;
  }

  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      const EventKey key = queue_.front();
      queue_.pop_front();
      auto it = pending_.find(key);
      Pending p = std::move(it->second);
      pending_.erase(it);
      busy_ = true;
      lock.unlock();
      Write(key, p);
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  void Write(EventKey key, const Pending& p) {
    const EventSubject& subject = p.origin->subject;
    std::string ns = subject.namespace_;
    if (ns.empty()) ns = "default";  // events about cluster-scoped objects
    auto it = written_.find(key);
    if (it != written_.end()) {
      Object patch = {{"count", it->second.count + p.count},
                      {"message", p.message},
                      {"lastTimestamp", Rfc3339(p.last)}};
      auto s = client_.Patch(resources::Events(), it->second.namespace_name, it->second.name,
                             PatchType::kMerge, patch);
      if (s.ok()) {
        it->second.count += p.count;
        return;
      }
      if (!kube::IsNotFound(s.status())) {
        LOG(WARNING) << "event recorder: " << s.status();
        return;
      }
      written_.erase(it);  // the event expired (TTL): create a new one
    }
    std::string name = absl::StrCat(subject.name, ".", absl::Hex(absl::ToUnixNanos(p.first)));
    Object ref = {{"kind", subject.kind},
                  {"apiVersion", subject.api_version},
                  {"name", subject.name},
                  {"uid", subject.uid},
                  {"resourceVersion", subject.resource_version}};
    if (!subject.namespace_.empty()) ref["namespace"] = subject.namespace_;
    Object event = {{"apiVersion", "v1"},
                    {"kind", "Event"},
                    {"metadata", {{"name", name}, {"namespace", ns}}},
                    {"involvedObject", ref},
                    {"type", p.origin->type},
                    {"reason", p.origin->reason},
                    {"message", p.message},
                    {"count", p.count},
                    {"firstTimestamp", Rfc3339(p.first)},
                    {"lastTimestamp", Rfc3339(p.last)},
                    {"eventTime", nullptr},
                    {"source", {{"component", options_.component}}},
                    {"reportingComponent", options_.component},
                    {"reportingInstance", options_.host}};
    if (!options_.host.empty()) event["source"]["host"] = options_.host;
    absl::Status created = client_.CreateStatusOnly(resources::Events(), ns, event);
    if (!created.ok()) {
      LOG(WARNING) << "event recorder: " << created;
      return;
    }
    // Bounds memory; the worst case is a new Event where a count would have been bumped.
    if (written_.size() >= options_.cache_limit) written_.clear();
    written_[key] = {ns, name, p.count};
  }

  Client& client_;
  const EventRecorderOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  EventCorrelator correlator_;                         // guarded by mu_
  absl::flat_hash_map<EventKey, Pending> pending_;  // guarded by mu_, by key
  std::shared_ptr<const Origin> last_origin_;       // guarded by mu_: the latest one queued
  std::deque<EventKey> queue_;                      // guarded by mu_: keys, oldest first
  size_t dropped_ = 0;                                 // guarded by mu_
  bool busy_ = false;
  bool stopping_ = false;
  absl::flat_hash_map<EventKey, Written> written_;  // only the writer thread touches it
  std::thread thread_;
};

}  // namespace

std::unique_ptr<EventRecorder> NewEventRecorder(Client& client, EventRecorderOptions options,
                                                Clock& clock) {
  return std::make_unique<EventRecorderImpl>(client, std::move(options), clock);
}

}  // namespace kubedl::kube
