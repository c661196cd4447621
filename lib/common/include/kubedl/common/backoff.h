#pragma once

// Exponential backoff, the one used by every retry loop of KubeDL: reconnecting watches and
// streams, retrying a lease, requeueing a failed work item.

#include <cstdint>
#include <optional>
#include <random>

#include "absl/time/time.h"

namespace kubedl::common {

struct BackoffOptions {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(30);
  // The delay is multiplied by this after every Next(); 1 keeps it constant.
  double factor = 2.0;
  // Next() returns the delay times a factor drawn uniformly from [min_jitter, max_jitter), so
  // many clients do not retry in step. 1 and 1: no jitter.
  double min_jitter = 1.0;
  double max_jitter = 1.0;
  // Seeds the jitter; unset, a random seed. Tests set it to get one sequence every run.
  std::optional<uint64_t> seed;
};

// Not thread-safe: one per retry loop (or per item, under the owner's lock).
class Backoff {
 public:
  explicit Backoff(BackoffOptions options);

  // The delay to wait before the next attempt (initial, then growing by `factor` up to `max`,
  // jittered). Grows the delay for the call after.
  absl::Duration Next();
  // Back to `initial`, after an attempt that succeeded.
  void Reset();
  // Next() calls since construction or the last Reset().
  int Attempts() const { return attempts_; }

 private:
  BackoffOptions options_;
  absl::Duration current_;
  int attempts_ = 0;
  // minstd_rand rather than a Mersenne twister: a work queue keeps a Backoff per failing item.
  std::minstd_rand random_;
};

}  // namespace kubedl::common
