#pragma once
// Runs the items of a piece of work concurrently on a bounded set of threads, so that fanning
// out (the creates of a slow-start batch) never costs a thread per item.
#include <cstddef>
#include <functional>

namespace kubedl::reconciler {

class ParallelRunner {
 public:
  virtual ~ParallelRunner() = default;

  // Calls fn(0) ... fn(n - 1), as many at once as free threads allow, and returns when every
  // call has returned. The caller's thread runs items too, so a call completes even when every
  // thread of the runner is busy with other callers' items. `fn` must be thread-safe.
  virtual void RunAll(size_t n, const std::function<void(size_t)>& fn) = 0;
};

}  // namespace kubedl::reconciler
