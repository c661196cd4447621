#pragma once
// Creating a job's pods and services one request at a time makes a 100-worker job wait for 200
// round trips; sending them all at once floods the API server with requests that fail alike when
// something is wrong (quota, an admission webhook down). Slow start, as the Kubernetes Job
// controller does it: batches of 1, 2, 4, ... whose items run concurrently, and no further batch
// once one has a failure.
#include <cstddef>
#include <functional>

#include "core/parallel_runner.h"

namespace kubedl::reconciler {

// Calls `attempt(i)` for i in [0, count) in batches of 1, 2, 4, ... (at most `max_batch` items
// each); the items of one batch run concurrently on `runner` (the caller's thread included), so
// `attempt` must be thread-safe. `attempt` returns false on a failure; no batch starts after one
// with a failure. When given, `prepare_batch(begin, end)` is called on the caller's thread
// before the batch [begin, end) runs; when it returns false that batch and the rest are not run.
// Returns how many items were attempted (a prefix of [0, count)).
size_t RunInSlowStartBatches(
    ParallelRunner& runner, size_t count, size_t max_batch,
    const std::function<bool(size_t)>& attempt,
    const std::function<bool(size_t begin, size_t end)>& prepare_batch = {});

}  // namespace kubedl::reconciler
