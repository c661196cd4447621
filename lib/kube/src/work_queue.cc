#include "kubedl/kube/work_queue.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "glog/logging.h"
#include "kubedl/common/backoff.h"
#include "kubedl/kube/rate_limiter.h"

namespace kubedl::kube {
namespace {

class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(absl::Duration base, absl::Duration max)
      : options_{.initial = base, .max = max} {}

  absl::Duration When(const std::string& item) override {
    std::lock_guard lock(mu_);
    return failures_.try_emplace(item, options_).first->second.Next();
  }
  void Forget(const std::string& item) override {
    std::lock_guard lock(mu_);
    failures_.erase(item);
  }
  int NumRequeues(const std::string& item) override {
    std::lock_guard lock(mu_);
    auto it = failures_.find(item);
    return it == failures_.end() ? 0 : it->second.Attempts();
  }

 private:
  const common::BackoffOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, common::Backoff> failures_;  // items that failed since Forget
};

class MaxOfRateLimiter final : public RateLimiter {
 public:
  MaxOfRateLimiter(std::unique_ptr<RateLimiter> per_item, double qps, int burst, Clock& clock)
      : per_item_(std::move(per_item)), bucket_(qps, burst, clock) {}
  absl::Duration When(const std::string& item) override {
    return std::max(per_item_->When(item), bucket_.Reserve());
  }
  void Forget(const std::string& item) override { per_item_->Forget(item); }
  int NumRequeues(const std::string& item) override { return per_item_->NumRequeues(item); }

 private:
  std::unique_ptr<RateLimiter> per_item_;
  TokenBucket bucket_;
};

class WorkQueueImpl final : public WorkQueue {
 public:
  WorkQueueImpl(std::unique_ptr<RateLimiter> limiter, Clock& clock)
      : limiter_(std::move(limiter)), clock_(clock), delay_thread_([this] { DelayLoop(); }) {}

  ~WorkQueueImpl() override {
    ShutDown();
    delay_thread_.join();
  }

  void Add(const std::string& item) override {
    std::lock_guard lock(mu_);
    AddLocked(item);
  }

  void AddAfter(const std::string& item, absl::Duration delay) override {
    if (delay <= absl::ZeroDuration()) return Add(item);
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    // Keep the earliest deadline per item.
    absl::Time at = clock_.Now() + delay;
    auto it = waiting_at_.find(item);
    if (it != waiting_at_.end() && it->second <= at) return;
    waiting_at_[item] = at;
    waiting_.push({at, item});
    delay_cv_.notify_one();
  }

  void AddRateLimited(const std::string& item) override { AddAfter(item, limiter_->When(item)); }
  void Forget(const std::string& item) override { limiter_->Forget(item); }
  int NumRequeues(const std::string& item) override { return limiter_->NumRequeues(item); }

  std::optional<std::string> Get() override {
    std::unique_lock lock(mu_);
    QueueDueLocked(clock_.Now());
    cv_.wait(lock, [&] { return !queue_.empty() || shutting_down_; });
    if (queue_.empty()) return std::nullopt;
    std::string item = std::move(queue_.front());
    queue_.pop_front();
    dirty_.erase(item);
    processing_.insert(item);
    return item;
  }

  void Done(const std::string& item) override {
    std::lock_guard lock(mu_);
    processing_.erase(item);
    if (dirty_.count(item)) {
      queue_.push_back(item);
      cv_.notify_one();
    }
  }

  size_t Len() override {
    std::lock_guard lock(mu_);
    QueueDueLocked(clock_.Now());
    return queue_.size();
  }

  void ShutDown() override {
    {
      std::lock_guard lock(mu_);
      shutting_down_ = true;
    }
    cv_.notify_all();
    delay_cv_.notify_all();
  }

  bool ShuttingDown() override {
    std::lock_guard lock(mu_);
    return shutting_down_;
  }

 private:
  void AddLocked(const std::string& item) {
    if (shutting_down_) return;
    if (!dirty_.insert(item).second) return;  // already queued
    if (processing_.count(item)) return;      // queued again by Done()
    queue_.push_back(item);
    cv_.notify_one();
  }

  // Queues the delayed items whose time has come. The delay thread does it when a deadline
  // passes; Get() and Len() do it too, so a fake clock's time counts as soon as it is set.
  void QueueDueLocked(absl::Time now) {
    while (!waiting_.empty() && waiting_.top().first <= now) {
      std::string ready = waiting_.top().second;
      waiting_.pop();
      auto it = waiting_at_.find(ready);
      if (it != waiting_at_.end() && it->second <= now) {
        waiting_at_.erase(it);
        AddLocked(ready);
      }  // else: superseded by an earlier deadline already handled, or a later entry remains
    }
  }

  void DelayLoop() {
    std::unique_lock lock(mu_);
    while (!shutting_down_) {
      absl::Time now = clock_.Now();
      QueueDueLocked(now);
      if (waiting_.empty()) {
        delay_cv_.wait(lock);
      } else {
        delay_cv_.wait_for(lock, absl::ToChronoNanoseconds(waiting_.top().first - now));
      }
    }
  }

  std::unique_ptr<RateLimiter> limiter_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable delay_cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued
  std::unordered_set<std::string> processing_;  // held by a worker
  using Waiting = std::pair<absl::Time, std::string>;
  std::priority_queue<Waiting, std::vector<Waiting>, std::greater<Waiting>> waiting_;
  std::unordered_map<std::string, absl::Time> waiting_at_;
  bool shutting_down_ = false;
  std::thread delay_thread_;
};

}  // namespace

std::unique_ptr<RateLimiter> NewItemExponentialRateLimiter(absl::Duration base,
                                                           absl::Duration max) {
  return std::make_unique<ItemExponentialRateLimiter>(base, max);
}

std::unique_ptr<RateLimiter> NewDefaultControllerRateLimiter(absl::Duration base,
                                                             absl::Duration max, double qps,
                                                             int burst, Clock& clock) {
  return std::make_unique<MaxOfRateLimiter>(NewItemExponentialRateLimiter(base, max), qps, burst,
                                            clock);
}

std::unique_ptr<WorkQueue> NewWorkQueue(std::unique_ptr<RateLimiter> limiter, Clock& clock) {
  return std::make_unique<WorkQueueImpl>(std::move(limiter), clock);
}

Workers::Workers(WorkQueue& queue, int count,
                 std::function<ReconcileResult(const std::string&)> reconcile)
    : queue_(queue) {
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this, reconcile] {
      while (auto item = queue_.Get()) {
        // Error barrier: an item whose reconcile throws is retried with backoff; the other
        // items and the worker go on.
        ReconcileResult result;
        try {
          result = reconcile(*item);
        } catch (const std::exception& e) {
          LOG(ERROR) << "reconciling " << *item << ": " << e.what();
          result.error = true;
        } catch (...) {
          LOG(ERROR) << "reconciling " << *item << ": unknown exception";
          result.error = true;
        }
        if (result.error || result.requeue) {
          queue_.AddRateLimited(*item);
        } else if (result.requeue_after > absl::ZeroDuration()) {
          queue_.Forget(*item);
          queue_.AddAfter(*item, result.requeue_after);
        } else {
          queue_.Forget(*item);
        }
        queue_.Done(*item);
      }
    });
  }
}

Workers::~Workers() { Stop(); }

void Workers::Stop() {
  queue_.ShutDown();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace kubedl::kube
