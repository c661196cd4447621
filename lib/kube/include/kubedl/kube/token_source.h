#pragma once

// The bearer token for requests: a fixed one, or a file re-read periodically because bound
// service-account tokens rotate (the kubelet rewrites the file at 80% of its lifetime).

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kubedl/kube/clock.h"

namespace kubedl::kube {

class TokenSource {
 public:
  TokenSource(std::string token, std::string token_file, absl::Duration reload_period,
              Clock& clock = RealClock());
  // The current token ("" when none is configured). On a read error the last good token stays.
  std::string Token();

 private:
  const std::string token_file_;
  const absl::Duration reload_period_;
  Clock& clock_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time loaded_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace kubedl::kube
