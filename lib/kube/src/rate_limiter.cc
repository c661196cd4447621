#include "kubedl/kube/rate_limiter.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace kubedl::kube {

TokenBucket::TokenBucket(double qps, int burst, Clock& clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(burst_), last_(clock.Now()) {}

absl::Duration TokenBucket::Reserve() {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_.Now();
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * qps_);
    last_ = now;
  }
  tokens_ -= 1;  // may go negative: that is the queue of reservations
  if (tokens_ >= 0) return absl::ZeroDuration();
  return absl::Seconds(-tokens_ / qps_);
}

void TokenBucket::Wait() { absl::SleepFor(Reserve()); }

}  // namespace kubedl::kube
