#pragma once

// A Clock for tests: time stands still until the test advances it. Thread-safe, because the
// code under test often reads it from threads of its own.

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kubedl/common/clock.h"

namespace kubedl::common {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'000'000'000)) : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::common
