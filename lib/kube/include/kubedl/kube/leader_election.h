#pragma once

// Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm:
// - a lease held by someone else is considered expired only when leaseDuration has passed on
//   OUR clock since we last saw the record change (observed time), so clocks need not agree;
// - the leader renews every retry period and gives up leading when it could not renew within
//   the renew deadline;
// - leaseTransitions counts changes of holder; on shutdown the leader can release the lease
//   (empty holder, leaseDurationSeconds 1) so a successor need not wait for expiry.
// Requires LeaseDuration > RenewDeadline > 1.2 x RetryPeriod.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kubedl/kube/clock.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::kube {

struct LeaderElectionRecord {
  std::string holder_identity;
  int lease_duration_seconds = 0;
  absl::Time acquire_time = absl::UnixEpoch();
  absl::Time renew_time = absl::UnixEpoch();
  int lease_transitions = 0;

  bool operator==(const LeaderElectionRecord&) const = default;
};

// Where the record lives. Get/Create/Update are optimistic: Update fails with Conflict when
// the record changed since the last Get.
class LeaseLock {
 public:
  virtual ~LeaseLock() = default;
  // NotFound when there is no lease yet.
  virtual absl::StatusOr<LeaderElectionRecord> Get() = 0;
  virtual absl::Status Create(const LeaderElectionRecord& record) = 0;
  virtual absl::Status Update(const LeaderElectionRecord& record) = 0;
  // e.g. "namespace/name", for logs.
  virtual std::string Describe() const = 0;
};

// A LeaseLock on the Lease `name` in `ns`.
std::unique_ptr<LeaseLock> NewLeaseLock(Client& client, std::string ns, std::string name);

struct LeaderElectionConfig {
  std::string identity;
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  bool release_on_cancel = true;
  // Called on the elector's thread. on_started_leading should return quickly (start work on
  // threads of your own); on_stopped_leading is called once leadership is lost or released.
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& leader)> on_new_leader;
};

absl::Status ValidateLeaderElectionConfig(const LeaderElectionConfig& config);

class LeaderElector {
 public:
  // The lock must outlive the elector. Use ValidateLeaderElectionConfig first.
  LeaderElector(LeaseLock& lock, LeaderElectionConfig config, Clock& clock = RealClock());

  // Blocks: acquires the lease (retrying every retry period), leads while renewing, and returns
  // when leadership is lost or Stop() was called (releasing the lease if configured).
  void Run();
  // Makes Run() return. Safe from any thread.
  void Stop();

  bool IsLeader() const;
  std::string CurrentLeader() const;

  // One acquire-or-renew attempt (exposed for tests of the state machine). True when we hold
  // the lease afterwards.
  bool TryAcquireOrRenew();
  // Gives the lease up if we hold it. True when released (or nothing to release).
  bool Release();

 private:
  bool SleepUnlessStopped(absl::Duration d);

  LeaseLock& lock_;
  const LeaderElectionConfig config_;
  Clock& clock_;

  mutable absl::Mutex mu_;
  std::optional<LeaderElectionRecord> observed_ ABSL_GUARDED_BY(mu_);
  absl::Time observed_time_ ABSL_GUARDED_BY(mu_);
  std::string reported_leader_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kubedl::kube
