#include "core/slow_start.h"

#include <algorithm>
#include <atomic>

namespace kubedl::reconciler {

size_t RunInSlowStartBatches(ParallelRunner& runner, size_t count, size_t max_batch,
                             const std::function<bool(size_t)>& attempt,
                             const std::function<bool(size_t begin, size_t end)>& prepare_batch) {
  max_batch = std::max<size_t>(max_batch, 1);
  size_t next = 0;
  for (size_t batch = 1; next < count; batch = std::min(batch * 2, max_batch)) {
    const size_t end = std::min(count, next + batch);
    if (prepare_batch && !prepare_batch(next, end)) break;
    std::atomic<bool> failed = false;
    const size_t begin = next;
    runner.RunAll(end - begin, [&](size_t i) {
      if (!attempt(begin + i)) failed = true;
    });
    next = end;
    if (failed) break;
  }
  return next;
}

}  // namespace kubedl::reconciler
