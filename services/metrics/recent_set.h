#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace kubedl::metrics {

// A set of 64-bit values that remembers at most `capacity` of them, forgetting the oldest insert
// first. Empty, it allocates nothing, so a job record that never needs one costs only its size.
class RecentSet {
 public:
  // True when `value` was not remembered (and now is). At capacity the oldest value is forgotten
  // first, so a later Insert of it answers true again.
  bool Insert(uint64_t value, size_t capacity) {
    if (capacity == 0 || members_.contains(value)) return capacity == 0;
    if (ring_.size() < capacity) {
      ring_.push_back(value);
    } else {
      next_ %= ring_.size();
      members_.erase(ring_[next_]);
      ring_[next_++] = value;
    }
    members_.insert(value);
    return true;
  }

  size_t size() const { return members_.size(); }

 private:
  std::vector<uint64_t> ring_;  // insertion order; once full, ring_[next_] is the oldest
  size_t next_ = 0;
  absl::flat_hash_set<uint64_t> members_;
};

}  // namespace kubedl::metrics
