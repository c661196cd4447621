#pragma once

// PriorityClass values by name, read from the API server and remembered for a while: every
// EnsureGang of a job with priority classes needs them, and they change rarely.

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::gang {

class PriorityClasses {
 public:
  PriorityClasses(kube::Client& client, absl::Duration ttl) : client_(client), ttl_(ttl) {}

  // The class's value; 0 for "" or a class that does not exist or cannot be read (the gang is
  // still made, only the order of replica types in minResources falls back to the job's).
  int32_t ValueOf(const std::string& name);

 private:
  struct Entry {
    int32_t value;
    absl::Time read_at;
  };
  kube::Client& client_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  std::map<std::string, Entry> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::gang
