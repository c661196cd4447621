#include "kubedl/kube/leader_election.h"

#include "absl/time/clock.h"
#include "glog/logging.h"
#include "kubedl/common/backoff.h"
#include "kubedl/kube/errors.h"

namespace kubedl::kube {

absl::Status ValidateLeaderElectionConfig(const LeaderElectionConfig& c) {
  if (c.identity.empty()) return absl::InvalidArgumentError("leader election needs an identity");
  if (c.lease_duration <= c.renew_deadline)
    return absl::InvalidArgumentError("leaseDuration must be greater than renewDeadline");
  if (c.renew_deadline <= c.retry_period * 1.2)
    return absl::InvalidArgumentError("renewDeadline must be greater than 1.2 x retryPeriod");
  if (c.retry_period <= absl::ZeroDuration())
    return absl::InvalidArgumentError("retryPeriod must be positive");
  return absl::OkStatus();
}

LeaderElector::LeaderElector(LeaseLock& lock, LeaderElectionConfig config, Clock& clock)
    : lock_(lock), config_(std::move(config)), clock_(clock) {}

bool LeaderElector::IsLeader() const {
  absl::MutexLock l(&mu_);
  return observed_ && observed_->holder_identity == config_.identity;
}

std::string LeaderElector::CurrentLeader() const {
  absl::MutexLock l(&mu_);
  return observed_ ? observed_->holder_identity : std::string();
}

bool LeaderElector::TryAcquireOrRenew() {
  // Leases store microseconds; compare records at that precision.
  absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
  LeaderElectionRecord desired;
  desired.holder_identity = config_.identity;
  desired.lease_duration_seconds =
      static_cast<int>(absl::ToInt64Seconds(absl::Ceil(config_.lease_duration, absl::Seconds(1))));
  desired.acquire_time = now;
  desired.renew_time = now;

  // 1. Fast path: we lead and our lease is valid: renew with an optimistic update.
  {
    absl::MutexLock l(&mu_);
    if (observed_ && observed_->holder_identity == config_.identity &&
        observed_time_ + config_.lease_duration > now) {
      LeaderElectionRecord renewed = *observed_;
      renewed.renew_time = now;
      renewed.lease_duration_seconds = desired.lease_duration_seconds;
      mu_.Unlock();
      absl::Status s = lock_.Update(renewed);
      mu_.Lock();
      if (s.ok()) {
        observed_ = renewed;
        observed_time_ = now;
        return true;
      }
      // Fall through to the slow path with a fresh read.
    }
  }

  // 2. Read the record; create it when there is none.
  auto current = lock_.Get();
  if (!current.ok()) {
    if (!kube::IsNotFound(current.status())) {
      LOG(WARNING) << "leader election: reading " << lock_.Describe() << ": " << current.status();
      return false;
    }
    if (!lock_.Create(desired).ok()) return false;
    absl::MutexLock l(&mu_);
    observed_ = desired;
    observed_time_ = now;
    return true;
  }

  // 3. Someone else holds an unexpired lease (by our observation): back off.
  absl::MutexLock l(&mu_);
  if (!observed_ || !(*observed_ == *current)) {
    observed_ = *current;
    observed_time_ = now;
  }
  bool held_by_other = !current->holder_identity.empty() &&
                       current->holder_identity != config_.identity;
  absl::Duration their_duration = absl::Seconds(current->lease_duration_seconds);
  if (held_by_other && observed_time_ + their_duration > now) return false;

  // 4. Take or renew it. Optimistic concurrency settles races between candidates.
  if (current->holder_identity == config_.identity) {
    desired.acquire_time = current->acquire_time;
    desired.lease_transitions = current->lease_transitions;
  } else {
    desired.lease_transitions = current->lease_transitions + 1;
  }
  mu_.Unlock();
  absl::Status s = lock_.Update(desired);
  mu_.Lock();
  if (!s.ok()) {
    if (!IsConflict(s)) LOG(WARNING) << "leader election: updating: " << s;
    return false;
  }
  observed_ = desired;
  observed_time_ = now;
  return true;
}

bool LeaderElector::Release() {
  LeaderElectionRecord released;
  {
    absl::MutexLock l(&mu_);
    if (!observed_ || observed_->holder_identity != config_.identity) return true;
    released.lease_transitions = observed_->lease_transitions;
  }
  absl::Time now = clock_.Now();
  released.lease_duration_seconds = 1;
  released.acquire_time = now;
  released.renew_time = now;
  absl::Status s = lock_.Update(released);
  if (!s.ok()) {
    LOG(WARNING) << "leader election: releasing " << lock_.Describe() << ": " << s;
    return false;
  }
  absl::MutexLock l(&mu_);
  observed_ = released;
  observed_time_ = now;
  return true;
}

void LeaderElector::Stop() {
  absl::MutexLock l(&mu_);
  stopped_ = true;
}

bool LeaderElector::SleepUnlessStopped(absl::Duration d) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopped_), d);
  return stopped_;
}

void LeaderElector::Run() {
  auto report_leader = [this] {
    std::string leader = CurrentLeader();
    bool changed;
    {
      absl::MutexLock l(&mu_);
      changed = leader != reported_leader_;
      reported_leader_ = leader;
    }
    if (changed && config_.on_new_leader) config_.on_new_leader(leader);
  };
  // Acquire, retrying every retry period plus up to 1.2 of it (client-go's JitterFactor), so
  // candidates started together do not collide on every attempt.
  common::Backoff retry({.initial = config_.retry_period,
                         .max = config_.retry_period,
                         .factor = 1,
                         .min_jitter = 1.0,
                         .max_jitter = 2.2});
  while (true) {
    bool acquired = TryAcquireOrRenew();
    report_leader();
    if (acquired) break;
    if (SleepUnlessStopped(retry.Next())) return;
  }
  LOG(INFO) << "leader election: " << config_.identity << " leads " << lock_.Describe();
  if (config_.on_started_leading) config_.on_started_leading();
  // Renew every retry period; give up when no renewal succeeded within the renew deadline.
  absl::Time last_renew = absl::Now();
  bool stopped = false;
  while (true) {
    if (SleepUnlessStopped(config_.retry_period)) {
      stopped = true;
      break;
    }
    if (TryAcquireOrRenew()) {
      last_renew = absl::Now();
      continue;
    }
    report_leader();
    if (!IsLeader() || absl::Now() - last_renew > config_.renew_deadline) break;
  }
  if (stopped && config_.release_on_cancel) Release();
  LOG(INFO) << "leader election: " << config_.identity << " stopped leading";
  if (config_.on_stopped_leading) config_.on_stopped_leading();
}

}  // namespace kubedl::kube
