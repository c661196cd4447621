#include "core/expectations.h"

namespace kubedl::reconciler {

Expectations::Expectations(kube::Clock& clock, absl::Duration ttl) : clock_(clock), ttl_(ttl) {}

void Expectations::ExpectCreate(const std::string& job_key, const std::string& name) {
  absl::MutexLock lock(&mu_);
  jobs_[job_key].creates[name] = clock_.Now();
}

void Expectations::ExpectDelete(const std::string& job_key, const std::string& uid) {
  absl::MutexLock lock(&mu_);
  jobs_[job_key].deletes[uid] = clock_.Now();
}

void Expectations::CreateObserved(const std::string& job_key, const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_key);
  if (it != jobs_.end()) it->second.creates.erase(name);
}

void Expectations::DeleteObserved(const std::string& job_key, const std::string& uid) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_key);
  if (it != jobs_.end()) it->second.deletes.erase(uid);
}

bool Expectations::Pending(const absl::flat_hash_map<std::string, absl::Time>& entries,
                           const std::string& id) const {
  auto it = entries.find(id);
  return it != entries.end() && clock_.Now() - it->second < ttl_;
}

bool Expectations::CreatePending(const std::string& job_key, const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_key);
  return it != jobs_.end() && Pending(it->second.creates, name);
}

bool Expectations::DeletePending(const std::string& job_key, const std::string& uid) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_key);
  return it != jobs_.end() && Pending(it->second.deletes, uid);
}

void Expectations::Forget(const std::string& job_key) {
  absl::MutexLock lock(&mu_);
  jobs_.erase(job_key);
}

}  // namespace kubedl::reconciler
