#pragma once
// A ParallelRunner on a fixed number of threads started once and shared by every caller
// (--create-parallelism in kubedl-reconciler): at most that many items run on the pool at a
// time, plus one on each calling thread.
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/parallel_runner.h"

namespace kubedl::reconciler {

class ThreadPoolParallelRunner final : public ParallelRunner {
 public:
  // Starts `threads` threads (at least one).
  explicit ThreadPoolParallelRunner(size_t threads);
  // Waits for the items the pool's threads are running, then joins them. Calls still in
  // RunAll finish their remaining items on their own threads.
  ~ThreadPoolParallelRunner() override;
  ThreadPoolParallelRunner(const ThreadPoolParallelRunner&) = delete;
  ThreadPoolParallelRunner& operator=(const ThreadPoolParallelRunner&) = delete;

  void RunAll(size_t n, const std::function<void(size_t)>& fn) override;

  size_t threads() const { return threads_.size(); }

 private:
  // One RunAll call, owned by the caller's stack frame; the pool only points at it while it has
  // items nobody has claimed yet.
  struct Work {
    const std::function<void(size_t)>* fn = nullptr;
    size_t n = 0;
    size_t next = 0;      // first item not claimed yet
    size_t finished = 0;  // items that returned
  };

  void Loop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Claims the next item of `work` and drops `work` from the queue once all its items are
  // claimed; false when none was left.
  bool Claim(Work& work, size_t& item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(Work& work) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::deque<Work*> queue_ ABSL_GUARDED_BY(mu_);  // calls with unclaimed items, oldest first
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace kubedl::reconciler
