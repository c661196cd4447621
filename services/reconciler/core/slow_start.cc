#include "core/slow_start.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace kubedl::reconciler {

size_t RunInSlowStartBatches(size_t count, size_t max_batch,
                             const std::function<bool(size_t)>& attempt) {
  max_batch = std::max<size_t>(max_batch, 1);
  size_t next = 0;
  for (size_t batch = 1; next < count; batch = std::min(batch * 2, max_batch)) {
    const size_t end = std::min(count, next + batch);
    std::atomic<bool> failed = false;
    std::vector<std::thread> helpers;
    helpers.reserve(end - next - 1);
    // The first item of the batch runs on the caller's thread: a batch of one starts no thread.
    for (size_t i = next + 1; i < end; ++i) {
      helpers.emplace_back([&, i] {
        if (!attempt(i)) failed = true;
      });
    }
    if (!attempt(next)) failed = true;
    for (std::thread& t : helpers) t.join();
    next = end;
    if (failed) break;
  }
  return next;
}

}  // namespace kubedl::reconciler
