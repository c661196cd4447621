#pragma once

// A token bucket: `qps` tokens a second, at most `burst` saved up. Used for the client-side
// request limit (off by default) and as the overall cap of the work queue's requeues.

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kubedl/kube/clock.h"

namespace kubedl::kube {

class TokenBucket {
 public:
  TokenBucket(double qps, int burst, Clock& clock = RealClock());

  // Takes one token and returns how long the caller must wait before using it (zero when a
  // token was available). Tokens are reserved, so concurrent callers queue up fairly.
  absl::Duration Reserve();
  // Reserve() and sleep for the answer.
  void Wait();

 private:
  const double qps_;
  const double burst_;
  Clock& clock_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::kube
