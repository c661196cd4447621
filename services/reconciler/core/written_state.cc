#include "core/written_state.h"

#include <algorithm>

namespace kubedl::reconciler {

WrittenState::Entry& WrittenState::For(const std::string& key, const std::string& uid) {
  Entry& entry = jobs_[key];
  if (entry.uid != uid) entry = Entry{.uid = uid};
  return entry;
}

std::optional<api::JobStatus> WrittenState::FinishedStatus(const std::string& key,
                                                           const std::string& uid) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(key);
  if (it == jobs_.end() || it->second.uid != uid) return std::nullopt;
  return it->second.finished;
}

void WrittenState::RememberFinished(const std::string& key, const std::string& uid,
                                    const api::JobStatus& status) {
  absl::MutexLock lock(&mu_);
  For(key, uid).finished = status;
}

int64_t WrittenState::Recreations(const std::string& key, const std::string& uid) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(key);
  return it == jobs_.end() || it->second.uid != uid ? 0 : it->second.recreations;
}

void WrittenState::RememberRecreations(const std::string& key, const std::string& uid,
                                       int64_t total) {
  absl::MutexLock lock(&mu_);
  Entry& entry = For(key, uid);
  entry.recreations = std::max(entry.recreations, total);
}

void WrittenState::Forget(const std::string& key) {
  absl::MutexLock lock(&mu_);
  jobs_.erase(key);
}

size_t WrittenState::size() {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

}  // namespace kubedl::reconciler
