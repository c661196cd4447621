#pragma once

// The one time source of KubeDL: code that waits, expires or rate-limits reads "now" through a
// Clock, so its tests can drive a FakeClock (kubedl/common/fake_clock.h) instead of sleeping.

#include "absl/time/time.h"

namespace kubedl::common {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock (absl::Now()). Process-wide, never destroyed.
Clock& RealClock();

}  // namespace kubedl::common
