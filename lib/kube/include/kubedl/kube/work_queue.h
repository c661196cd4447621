#pragma once

// A de-duplicating work queue with rate-limited and delayed re-adds, with client-go's
// semantics:
// - an item added several times before a worker takes it is processed once;
// - an item is never processed by two workers at once: added while in process, it is queued
//   again when the worker calls Done();
// - AddRateLimited waits max(per-item exponential backoff, overall token bucket);
// - AddAfter queues an item after a delay (a reconcile's RequeueAfter).
// Time is read only through a Clock, so tests drive a FakeClock instead of sleeping.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "kubedl/kube/clock.h"

namespace kubedl::kube {

// How long to wait before an item's next retry.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual absl::Duration When(const std::string& item) = 0;
  virtual void Forget(const std::string& item) = 0;
  virtual int NumRequeues(const std::string& item) = 0;
};

// base * 2^failures, capped at max (client-go: 5 ms to 1000 s).
std::unique_ptr<RateLimiter> NewItemExponentialRateLimiter(
    absl::Duration base = absl::Milliseconds(5), absl::Duration max = absl::Seconds(1000));
// The longer of the per-item backoff and an overall token bucket (client-go: 10 qps, burst 100).
std::unique_ptr<RateLimiter> NewDefaultControllerRateLimiter(
    absl::Duration base = absl::Milliseconds(5), absl::Duration max = absl::Seconds(1000),
    double qps = 10, int burst = 100, Clock& clock = RealClock());

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;
  virtual void Add(const std::string& item) = 0;
  virtual void AddAfter(const std::string& item, absl::Duration delay) = 0;
  virtual void AddRateLimited(const std::string& item) = 0;
  // Clears the item's failure history (call after a successful reconcile).
  virtual void Forget(const std::string& item) = 0;
  virtual int NumRequeues(const std::string& item) = 0;
  // Blocks for the next item; nullopt once shut down (and drained of queued items).
  virtual std::optional<std::string> Get() = 0;
  // Marks the item processed; re-queues it if it was added meanwhile.
  virtual void Done(const std::string& item) = 0;
  // Queued (not in process) items.
  virtual size_t Len() = 0;
  // Get() returns nullopt from now on; delayed adds are dropped.
  virtual void ShutDown() = 0;
  virtual bool ShuttingDown() = 0;
};

// `clock` times AddAfter and AddRateLimited; the limiter reads its own (see
// NewDefaultControllerRateLimiter).
std::unique_ptr<WorkQueue> NewWorkQueue(
    std::unique_ptr<RateLimiter> limiter = NewDefaultControllerRateLimiter(),
    Clock& clock = RealClock());

// What a reconcile asks of the queue.
struct ReconcileResult {
  bool requeue = false;                                   // rate-limited requeue
  absl::Duration requeue_after = absl::ZeroDuration();    // plain delayed requeue when > 0
  bool error = false;                                     // rate-limited requeue
};

// N threads taking items from the queue and running `reconcile`; after an error or requeue
// the item is re-added rate-limited, after requeue_after it is re-added after that delay,
// otherwise it is forgotten. Stop() shuts the queue down and joins the threads.
class Workers {
 public:
  Workers(WorkQueue& queue, int count, std::function<ReconcileResult(const std::string&)> reconcile);
  ~Workers();
  void Stop();

 private:
  WorkQueue& queue_;
  std::vector<std::thread> threads_;
};

}  // namespace kubedl::kube
