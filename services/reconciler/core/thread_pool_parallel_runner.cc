#include "core/thread_pool_parallel_runner.h"

#include <algorithm>

namespace kubedl::reconciler {

ThreadPoolParallelRunner::ThreadPoolParallelRunner(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

ThreadPoolParallelRunner::~ThreadPoolParallelRunner() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

bool ThreadPoolParallelRunner::Claim(Work& work, size_t& item) {
  if (work.next >= work.n) return false;
  item = work.next++;
  if (work.next == work.n) {
    auto it = std::find(queue_.begin(), queue_.end(), &work);
    if (it != queue_.end()) queue_.erase(it);
  }
  return true;
}

void ThreadPoolParallelRunner::Finish(Work& work) {
  absl::MutexLock lock(&mu_);
  ++work.finished;
}

bool ThreadPoolParallelRunner::HasWorkOrStopping() const { return stopping_ || !queue_.empty(); }

void ThreadPoolParallelRunner::Loop() {
  for (;;) {
    Work* work = nullptr;
    size_t item = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ThreadPoolParallelRunner::HasWorkOrStopping));
      if (stopping_) return;
      work = queue_.front();
      // A queued call always has an unclaimed item: Claim drops it with its last one.
      Claim(*work, item);
    }
    (*work->fn)(item);
    // `work` stays valid: its caller waits for this item before returning.
    Finish(*work);
  }
}

void ThreadPoolParallelRunner::RunAll(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  Work work;
  work.fn = &fn;
  work.n = n;
  if (n > 1) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(&work);
  }
  for (;;) {
    size_t item = 0;
    {
      absl::MutexLock lock(&mu_);
      if (!Claim(work, item)) break;
    }
    fn(item);
    Finish(work);
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(+[](Work* w) { return w->finished == w->n; }, &work));
}

}  // namespace kubedl::reconciler
