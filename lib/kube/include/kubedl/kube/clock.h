#pragma once

// Time source, so leader election and rate limiting can be tested without sleeping.

#include "absl/time/time.h"

namespace kubedl::kube {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock (absl::Now()). Process-wide, never destroyed.
Clock& RealClock();

}  // namespace kubedl::kube
