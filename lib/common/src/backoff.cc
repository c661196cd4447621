#include "kubedl/common/backoff.h"

#include <algorithm>

namespace kubedl::common {
namespace {

bool Jittered(const BackoffOptions& options) {
  return options.min_jitter != 1.0 || options.max_jitter != 1.0;
}

}  // namespace

Backoff::Backoff(BackoffOptions options)
    : options_(options), current_(std::min(options.initial, options.max)) {
  // Seeding from random_device costs a system call: only a jittered Backoff needs it.
  if (Jittered(options_)) {
    random_.seed(static_cast<std::minstd_rand::result_type>(
        options_.seed.value_or(std::random_device{}())));
  }
}

absl::Duration Backoff::Next() {
  absl::Duration delay = current_;
  current_ = std::min(current_ * options_.factor, options_.max);
  ++attempts_;
  if (!Jittered(options_)) return delay;
  std::uniform_real_distribution<double> jitter(options_.min_jitter, options_.max_jitter);
  return delay * jitter(random_);
}

void Backoff::Reset() {
  current_ = std::min(options_.initial, options_.max);
  attempts_ = 0;
}

}  // namespace kubedl::common
