#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "glog/logging.h"
#include "kubedl/common/backoff.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/informer.h"

namespace kubedl::kube {
namespace {

// One cached object. `packed` is the MessagePack form of the transformed object. Its labels
// are not kept apart: a pod's ten labels cost a kilobyte as strings, and a list by label
// selector (rare: controllers look up through indexes) reads them from `packed`.
struct Entry {
  std::string packed;
  std::string resource_version;
  std::vector<std::vector<std::string>> index_values;  // per indexer, same order
  uint32_t generation = 0;  // the list that last saw it
};

Object Unpack(const std::string& packed) {
  try {
    return Object::from_msgpack(packed);
  } catch (const Object::exception&) {
    return Object();  // cannot happen for bytes we packed; keep readers non-throwing
  }
}

class InformerImpl final : public Informer {
 public:
  InformerImpl(Client& client, InformerOptions options)
      : client_(client), options_(std::move(options)) {
    indexers_.emplace_back(kIndexControllerUid, [](const Object& obj) {
      std::string uid = ControllerUid(obj);
      return uid.empty() ? std::vector<std::string>() : std::vector<std::string>{uid};
    });
    for (auto& indexer : options_.indexers) indexers_.push_back(indexer);
    indexes_.resize(indexers_.size());
  }

  ~InformerImpl() override { Stop(); }

  void AddEventHandler(EventHandler handler) override {
    absl::MutexLock lock(&handlers_mu_);
    if (handler.on_update) wants_old_objects_ = true;
    handlers_.push_back(std::move(handler));
  }

  void Start() override {
    if (started_.exchange(true)) return;
    thread_ = std::thread([this] { Run(); });
    if (options_.resync_period > absl::ZeroDuration())
      resync_thread_ = std::thread([this] { ResyncLoop(); });
  }

  void Stop() override {
    {
      absl::MutexLock lock(&stream_mu_);
      if (stopping_) return;
      stopping_ = true;
      if (stream_) stream_->Cancel();
    }
    if (thread_.joinable()) thread_.join();
    if (resync_thread_.joinable()) resync_thread_.join();
  }

  bool HasSynced() const override { return synced_.HasBeenNotified(); }
  bool WaitForSync(absl::Duration timeout) const override {
    return synced_.WaitForNotificationWithTimeout(timeout);
  }

  std::string LastResourceVersion() const override {
    std::shared_lock lock(store_mu_);
    return last_rv_;
  }
  int64_t ListCount() const override { return list_count_.load(); }

  std::optional<Object> Get(const std::string& ns, const std::string& name) const override {
    std::shared_lock lock(store_mu_);
    auto it = store_.find(ObjectKey(ns, name));
    if (it == store_.end()) return std::nullopt;
    return Unpack(it->second.packed);
  }

  std::vector<Object> List(const std::string& ns, const LabelSelector& selector) const override {
    std::vector<Object> out;
    std::shared_lock lock(store_mu_);
    auto it = ns.empty() ? store_.begin() : store_.lower_bound(absl::StrCat(ns, "/"));
    std::string prefix = ns.empty() ? "" : absl::StrCat(ns, "/");
    for (; it != store_.end(); ++it) {
      if (!ns.empty() && it->first.compare(0, prefix.size(), prefix) != 0) break;
      Object obj = Unpack(it->second.packed);
      if (selector.empty() || selector.Matches(GetLabels(obj))) out.push_back(std::move(obj));
    }
    return out;
  }

  std::vector<Object> ByIndex(const std::string& index_name,
                              const std::string& value) const override {
    std::vector<Object> out;
    std::shared_lock lock(store_mu_);
    for (size_t i = 0; i < indexers_.size(); ++i) {
      if (indexers_[i].first != index_name) continue;
      auto keys = indexes_[i].find(value);
      if (keys == indexes_[i].end()) return out;
      for (const auto& key : keys->second) {
        auto it = store_.find(key);
        if (it != store_.end()) out.push_back(Unpack(it->second.packed));
      }
    }
    return out;
  }

  std::vector<std::pair<std::string, std::string>> KeysAndVersions() const override {
    std::vector<std::pair<std::string, std::string>> out;
    std::shared_lock lock(store_mu_);
    out.reserve(store_.size());
    for (const auto& [key, entry] : store_) out.emplace_back(key, entry.resource_version);
    return out;
  }

  size_t Size() const override {
    std::shared_lock lock(store_mu_);
    return store_.size();
  }

 private:
  using IndexMap = std::unordered_map<std::string, std::unordered_set<std::string>>;

  void Run() {
    // Up to twice the delay, so informers restarted together do not retry in step.
    common::Backoff backoff({.initial = options_.initial_backoff,
                             .max = options_.max_backoff,
                             .min_jitter = 1.0,
                             .max_jitter = 2.0});
    bool need_list = true;
    std::mt19937_64 rng(std::random_device{}());  // spreads the watch timeouts
    while (!Stopping()) {
      if (need_list) {
        absl::Status listed = ListAndReplace();
        if (!listed.ok()) {
          LOG(WARNING) << "informer " << options_.resource.resource << ": list failed: "
                       << listed;
          SleepUnlessStopping(backoff.Next());
          continue;
        }
        need_list = false;
        synced_notify_once();
      }
      WatchOptions wo;
      wo.resource_version = LastResourceVersion();
      wo.label_selector = options_.label_selector;
      wo.field_selector = options_.field_selector;
      wo.allow_bookmarks = true;
      int64_t min_s = std::max<int64_t>(1, absl::ToInt64Seconds(options_.watch_timeout));
      wo.timeout_seconds = static_cast<int>(min_s + static_cast<int64_t>(rng() % min_s));
      wo.idle_timeout = options_.idle_timeout;
      wo.skip_object_fields = options_.skip_fields;
      auto stream = client_.Watch(options_.resource, options_.namespace_name, wo);
      if (!stream.ok()) {
        if (IsGone(stream.status())) {
          need_list = true;
          continue;
        }
        LOG(WARNING) << "informer " << options_.resource.resource << ": watch failed: "
                     << stream.status();
        SleepUnlessStopping(backoff.Next());
        continue;
      }
      {
        absl::MutexLock lock(&stream_mu_);
        if (stopping_) break;
        stream_ = stream->get();
      }
      WatchOutcome outcome = ConsumeWatch(**stream);
      {
        absl::MutexLock lock(&stream_mu_);
        stream_ = nullptr;
      }
      switch (outcome) {
        case WatchOutcome::kClosed:
          backoff.Reset();
          break;  // re-watch from the last resourceVersion
        case WatchOutcome::kGone:
          need_list = true;
          break;
        case WatchOutcome::kBroken:
          SleepUnlessStopping(backoff.Next());
          break;
        case WatchOutcome::kProgress:
          backoff.Reset();
          break;
      }
    }
  }

  enum class WatchOutcome { kClosed, kGone, kBroken, kProgress };

  WatchOutcome ConsumeWatch(WatchStream& stream) {
    bool progressed = false;
    while (true) {
      auto next = stream.Next();
      if (!next.ok()) {
        if (!Stopping() && next.status().code() != absl::StatusCode::kCancelled) {
          LOG(INFO) << "informer " << options_.resource.resource << ": watch ended: "
                    << next.status();
        }
        return progressed ? WatchOutcome::kProgress : WatchOutcome::kBroken;
      }
      if (!next->has_value()) return WatchOutcome::kClosed;
      WatchEvent& event = **next;
      switch (event.type) {
        case WatchEventType::kError: {
          absl::Status error = event.ErrorStatus();
          if (IsGone(error)) return WatchOutcome::kGone;
          LOG(WARNING) << "informer " << options_.resource.resource << ": watch error " << error;
          return WatchOutcome::kBroken;
        }
        case WatchEventType::kBookmark: {
          std::string rv = ResourceVersion(event.object);
          std::unique_lock lock(store_mu_);
          if (!rv.empty()) last_rv_ = rv;
          break;
        }
        case WatchEventType::kAdded:
        case WatchEventType::kModified:
          Upsert(std::move(event.object), 0);
          break;
        case WatchEventType::kDeleted:
          Remove(std::move(event.object));
          break;
      }
      progressed = true;
    }
  }

  // Pages through the list; objects not seen in it are deleted at the end. Pages keep the
  // transient JSON small, which keeps the peak RSS of a large sync low.
  absl::Status ListAndReplace() {
    list_count_.fetch_add(1);
    uint32_t generation = ++generation_;
    ListOptions lo;
    lo.label_selector = options_.label_selector;
    lo.field_selector = options_.field_selector;
    lo.limit = options_.page_size;
    std::string list_rv;
    while (true) {
      auto page = client_.List(options_.resource, options_.namespace_name, lo);
      if (!page.ok()) return page.status();
      for (auto& item : page->items) Upsert(std::move(item), generation);
      list_rv = page->resource_version;
      if (page->continue_token.empty()) break;
      lo.continue_token = page->continue_token;
      if (Stopping()) return absl::CancelledError("stopping");
    }
    std::vector<Object> gone;
    {
      std::unique_lock lock(store_mu_);
      for (auto it = store_.begin(); it != store_.end();) {
        if (it->second.generation != generation) {
          gone.push_back(Unpack(it->second.packed));
          Unindex(it->first, it->second);
          it = store_.erase(it);
        } else {
          ++it;
        }
      }
      last_rv_ = list_rv;
    }
    for (auto& obj : gone) Dispatch([&](EventHandler& h) { if (h.on_delete) h.on_delete(obj); });
    return absl::OkStatus();
  }

  void Upsert(Object obj, uint32_t generation) {
    if (options_.transform) options_.transform(obj);
    std::string key = ObjectKey(obj);
    Entry entry;
    entry.resource_version = ResourceVersion(obj);
    for (auto& [name, fn] : indexers_) entry.index_values.push_back(fn(obj));
    Object::to_msgpack(obj, entry.packed);
    entry.packed.shrink_to_fit();
    std::optional<Object> old;
    bool existed = false;
    bool changed = true;
    {
      std::unique_lock lock(store_mu_);
      auto it = store_.find(key);
      if (generation != 0) {
        entry.generation = generation;
      } else {
        entry.generation = it != store_.end() ? it->second.generation : generation_.load();
        if (!entry.resource_version.empty()) last_rv_ = entry.resource_version;
      }
      if (it != store_.end()) {
        existed = true;
        changed = it->second.resource_version != entry.resource_version;
        if (changed) {
          if (wants_old_objects_) old = Unpack(it->second.packed);
          Unindex(key, it->second);
          it->second = std::move(entry);
          Index(key, it->second);
        } else {
          it->second.generation = entry.generation;
        }
      } else {
        auto [ins, ok] = store_.emplace(key, std::move(entry));
        Index(key, ins->second);
      }
    }
    if (!changed) return;
    if (existed) {
      Dispatch([&](EventHandler& h) {
        if (h.on_update && old) h.on_update(*old, obj);
        if (h.on_modified) h.on_modified(obj);
      });
    } else {
      Dispatch([&](EventHandler& h) { if (h.on_add) h.on_add(obj); });
    }
  }

  void Remove(Object obj) {
    if (options_.transform) options_.transform(obj);
    std::string key = ObjectKey(obj);
    {
      std::unique_lock lock(store_mu_);
      std::string rv = ResourceVersion(obj);
      if (!rv.empty()) last_rv_ = rv;
      auto it = store_.find(key);
      if (it == store_.end()) return;
      Unindex(key, it->second);
      store_.erase(it);
    }
    Dispatch([&](EventHandler& h) { if (h.on_delete) h.on_delete(obj); });
  }

  void Index(const std::string& key, const Entry& e) {
    for (size_t i = 0; i < e.index_values.size(); ++i) {
      for (const auto& v : e.index_values[i]) indexes_[i][v].insert(key);
    }
  }
  void Unindex(const std::string& key, const Entry& e) {
    for (size_t i = 0; i < e.index_values.size(); ++i) {
      for (const auto& v : e.index_values[i]) {
        auto it = indexes_[i].find(v);
        if (it == indexes_[i].end()) continue;
        it->second.erase(key);
        if (it->second.empty()) indexes_[i].erase(it);
      }
    }
  }

  // Error barrier: a handler that throws loses that one event, not the watch (nor the process).
  template <typename F>
  void Dispatch(F f) {
    absl::MutexLock lock(&handlers_mu_);
    for (auto& h : handlers_) {
      try {
        f(h);
      } catch (const std::exception& e) {
        LOG(ERROR) << "informer " << options_.resource.resource << ": event handler failed: "
                   << e.what();
      } catch (...) {
        LOG(ERROR) << "informer " << options_.resource.resource
                   << ": event handler failed with an unknown exception";
      }
    }
  }

  void ResyncLoop() {
    while (!SleepUnlessStopping(options_.resync_period)) {
      if (!HasSynced()) continue;
      std::vector<Object> all = List("", LabelSelector());
      for (auto& obj : all) {
        if (Stopping()) return;
        Dispatch([&](EventHandler& h) {
          if (h.on_update) h.on_update(obj, obj);
          if (h.on_modified) h.on_modified(obj);
        });
      }
    }
  }

  bool Stopping() {
    absl::MutexLock lock(&stream_mu_);
    return stopping_;
  }
  // Returns true when stopping.
  bool SleepUnlessStopping(absl::Duration d) {
    absl::MutexLock lock(&stream_mu_);
    stream_mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
    return stopping_;
  }
  void synced_notify_once() {
    if (!synced_.HasBeenNotified()) synced_.Notify();
  }

  Client& client_;
  const InformerOptions options_;
  std::vector<std::pair<std::string, std::function<std::vector<std::string>(const Object&)>>>
      indexers_;

  mutable std::shared_mutex store_mu_;
  std::map<std::string, Entry> store_;  // ordered by "ns/name": namespace scans are ranges
  std::vector<IndexMap> indexes_;
  std::string last_rv_;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int64_t> list_count_{0};

  absl::Mutex handlers_mu_;
  std::vector<EventHandler> handlers_;
  // Set once a handler with on_update is added.
  std::atomic<bool> wants_old_objects_{false};

  absl::Mutex stream_mu_;
  bool stopping_ ABSL_GUARDED_BY(stream_mu_) = false;
  WatchStream* stream_ ABSL_GUARDED_BY(stream_mu_) = nullptr;

  std::atomic<bool> started_{false};
  absl::Notification synced_;
  std::thread thread_;
  std::thread resync_thread_;
};

}  // namespace

std::unique_ptr<Informer> NewInformer(Client& client, InformerOptions options) {
  return std::make_unique<InformerImpl>(client, std::move(options));
}

}  // namespace kubedl::kube
