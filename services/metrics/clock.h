#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kubedl::metrics {

// Where the aggregator reads "now" from, so retention and snapshot expiry can be tested without
// sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace kubedl::metrics
