#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "glog/logging.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/event_recorder.h"

namespace kubedl::kube {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

struct Pending {
  Object involved;
  std::string type, reason, message;
  absl::Time at;
};

// What we know of an Event we wrote, for aggregation.
struct Written {
  std::string namespace_name;
  std::string name;
  int count = 0;
};

class EventRecorderImpl final : public EventRecorder {
 public:
  EventRecorderImpl(Client& client, EventRecorderOptions options, Clock& clock)
      : client_(client), options_(std::move(options)), clock_(clock),
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
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.queue_limit) {
      LOG(WARNING) << "event recorder: queue full, dropping " << reason << " for "
                   << ObjectKey(involved);
      return;
    }
    queue_.push_back({involved, type, reason, message, clock_.Now()});
    cv_.notify_all();
  }

  void Flush() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      Write(p);
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  void Write(const Pending& p) {
    std::string ns = Namespace(p.involved);
    if (ns.empty()) ns = "default";  // events about cluster-scoped objects
    std::string key = absl::StrCat(ns, "\x1f", Uid(p.involved), "\x1f", ObjectKey(p.involved),
                                   "\x1f", p.type, "\x1f", p.reason, "\x1f", p.message);
    auto it = written_.find(key);
    if (it != written_.end()) {
      Object patch = {{"count", it->second.count + 1},
                      {"lastTimestamp", Rfc3339(p.at)}};
      auto s = client_.Patch(resources::Events(), it->second.namespace_name, it->second.name,
                             PatchType::kMerge, patch);
      if (s.ok()) {
        ++it->second.count;
        return;
      }
      if (!kube::IsNotFound(s.status())) {
        LOG(WARNING) << "event recorder: " << s.status();
        return;
      }
      written_.erase(it);  // the event expired (TTL): create a new one
    }
    std::string name = absl::StrCat(Name(p.involved), ".", absl::Hex(absl::ToUnixNanos(p.at)));
    Object ref = {{"kind", p.involved.value("kind", "")},
                  {"apiVersion", p.involved.value("apiVersion", "")},
                  {"name", Name(p.involved)},
                  {"uid", Uid(p.involved)},
                  {"resourceVersion", ResourceVersion(p.involved)}};
    if (!Namespace(p.involved).empty()) ref["namespace"] = Namespace(p.involved);
    Object event = {{"apiVersion", "v1"},
                    {"kind", "Event"},
                    {"metadata", {{"name", name}, {"namespace", ns}}},
                    {"involvedObject", ref},
                    {"type", p.type},
                    {"reason", p.reason},
                    {"message", p.message},
                    {"count", 1},
                    {"firstTimestamp", Rfc3339(p.at)},
                    {"lastTimestamp", Rfc3339(p.at)},
                    {"eventTime", nullptr},
                    {"source", {{"component", options_.component}}},
                    {"reportingComponent", options_.component},
                    {"reportingInstance", options_.host}};
    if (!options_.host.empty()) event["source"]["host"] = options_.host;
    auto created = client_.Create(resources::Events(), ns, event);
    if (!created.ok()) {
      LOG(WARNING) << "event recorder: " << created.status();
      return;
    }
    if (written_.size() > 4096) written_.clear();  // bound memory; worst case: a new Event
    written_[key] = {ns, name, 1};
  }

  Client& client_;
  const EventRecorderOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::unordered_map<std::string, Written> written_;  // only the writer thread touches it
  std::thread thread_;
};

}  // namespace

std::unique_ptr<EventRecorder> NewEventRecorder(Client& client, EventRecorderOptions options,
                                                Clock& clock) {
  return std::make_unique<EventRecorderImpl>(client, std::move(options), clock);
}

}  // namespace kubedl::kube
