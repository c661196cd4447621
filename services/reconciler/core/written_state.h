#pragma once
// What this process wrote for each job that the informer cache may not show yet: the terminal
// status (acting on a stale copy would recreate pods that cleanPodPolicy removed) and the
// recreation count (the annotation patch may lag behind the next pass). One entry per live
// job, dropped when the job is gone, and reset when a job of the same name has a new uid.
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "kubedl/api/job.h"

namespace kubedl::reconciler {

class WrittenState {
 public:
  std::optional<api::JobStatus> FinishedStatus(const std::string& key, const std::string& uid);
  void RememberFinished(const std::string& key, const std::string& uid,
                        const api::JobStatus& status);

  int64_t Recreations(const std::string& key, const std::string& uid);
  void RememberRecreations(const std::string& key, const std::string& uid, int64_t total);

  void Forget(const std::string& key);
  size_t size();

 private:
  struct Entry {
    std::string uid;
    std::optional<api::JobStatus> finished;
    int64_t recreations = 0;
  };
  // The entry of `key` for `uid`, fresh when the job was replaced.
  Entry& For(const std::string& key, const std::string& uid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::reconciler
