#include <optional>

#include "gtest/gtest.h"
#include "kubedl/common/fake_clock.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/leader_election.h"

namespace kubedl::kube {
namespace {

using common::FakeClock;

// An in-memory Lease with optimistic concurrency: an Update is accepted only if the record
// was not changed since this lock's last Get/Create/Update (like a resourceVersion).
struct SharedLease {
  std::optional<LeaderElectionRecord> record;
  int version = 0;
  int updates = 0;
};

class FakeLeaseLock : public LeaseLock {
 public:
  explicit FakeLeaseLock(SharedLease& lease) : lease_(lease) {}
  absl::StatusOr<LeaderElectionRecord> Get() override {
    if (fail_reads) return absl::UnavailableError("apiserver down");
    if (!lease_.record) return MakeApiError(404, "NotFound", "no lease");
    seen_version_ = lease_.version;
    return *lease_.record;
  }
  absl::Status Create(const LeaderElectionRecord& r) override {
    if (lease_.record) return MakeApiError(409, "AlreadyExists", "exists");
    lease_.record = r;
    seen_version_ = ++lease_.version;
    return absl::OkStatus();
  }
  absl::Status Update(const LeaderElectionRecord& r) override {
    if (fail_writes) return absl::UnavailableError("apiserver down");
    if (seen_version_ != lease_.version) return MakeApiError(409, "Conflict", "modified");
    lease_.record = r;
    seen_version_ = ++lease_.version;
    ++lease_.updates;
    return absl::OkStatus();
  }
  std::string Describe() const override { return "test/lease"; }

  bool fail_reads = false;
  bool fail_writes = false;

 private:
  SharedLease& lease_;
  int seen_version_ = -1;
};

LeaderElectionConfig Config(const std::string& id) {
  LeaderElectionConfig c;
  c.identity = id;
  c.lease_duration = absl::Seconds(15);
  c.renew_deadline = absl::Seconds(10);
  c.retry_period = absl::Seconds(2);
  return c;
}

TEST(LeaderElectionConfigTest, DurationsMustBeOrdered) {
  EXPECT_TRUE(ValidateLeaderElectionConfig(Config("a")).ok());
  auto c = Config("a");
  c.renew_deadline = absl::Seconds(15);
  EXPECT_FALSE(ValidateLeaderElectionConfig(c).ok());
  c = Config("a");
  c.retry_period = absl::Seconds(9);  // 1.2 x 9 > 10
  EXPECT_FALSE(ValidateLeaderElectionConfig(c).ok());
  c = Config("");
  EXPECT_FALSE(ValidateLeaderElectionConfig(c).ok());
}

// Two candidates, "a" and "b", on one in-memory Lease, judging time by one fake clock.
class LeaderElectorTest : public ::testing::Test {
 protected:
  SharedLease lease;
  FakeClock clock;
  FakeLeaseLock lock_a{lease}, lock_b{lease};
  LeaderElector a{lock_a, Config("a"), clock}, b{lock_b, Config("b"), clock};
};

TEST_F(LeaderElectorTest, FirstCandidateCreatesTheLeaseAndTheSecondBacksOff) {
  EXPECT_TRUE(a.TryAcquireOrRenew());
  EXPECT_TRUE(a.IsLeader());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_FALSE(b.IsLeader());
  EXPECT_EQ(b.CurrentLeader(), "a");
  EXPECT_EQ(lease.record->holder_identity, "a");
  EXPECT_EQ(lease.record->lease_duration_seconds, 15);
  EXPECT_EQ(lease.record->lease_transitions, 0);
}

TEST_F(LeaderElectorTest, LeaderRenewsWithTheFastPathAndKeepsAcquireTime) {
  ASSERT_TRUE(a.TryAcquireOrRenew());
  absl::Time acquired = lease.record->acquire_time;
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_EQ(lease.record->acquire_time, acquired);
  EXPECT_EQ(lease.record->renew_time, clock.Now());
  EXPECT_EQ(lease.updates, 1);
}

TEST_F(LeaderElectorTest, ExpiryIsJudgedByObservedTimeNotTheHoldersClock) {
  // The holder's renewTime is far in the past by our clock (clock skew), but we have only
  // just observed the record: we must wait a full lease duration from now.
  lease.record = LeaderElectionRecord{"a", 15, clock.Now() - absl::Hours(1),
                                      clock.Now() - absl::Hours(1), 3};
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(absl::Seconds(14));
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(absl::Seconds(2));
  EXPECT_TRUE(b.TryAcquireOrRenew());
  EXPECT_EQ(lease.record->holder_identity, "b");
  EXPECT_EQ(lease.record->lease_transitions, 4);
}

TEST_F(LeaderElectorTest, ARenewedLeaseIsNotTakenOver) {
  ASSERT_TRUE(a.TryAcquireOrRenew());
  for (int i = 0; i < 20; ++i) {  // 40 s: far beyond one lease duration
    clock.Advance(absl::Seconds(2));
    ASSERT_TRUE(a.TryAcquireOrRenew());
    ASSERT_FALSE(b.TryAcquireOrRenew()) << "at step " << i;
  }
  EXPECT_EQ(lease.record->holder_identity, "a");
}

TEST_F(LeaderElectorTest, RacingCandidatesOnlyOneWins) {
  lease.record = LeaderElectionRecord{"old", 15, clock.Now(), clock.Now(), 0};
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(absl::Seconds(16));
  // Both read the expired record, then both try to update: the second update conflicts.
  ASSERT_TRUE(lock_a.Get().ok());
  ASSERT_TRUE(lock_b.Get().ok());
  bool a_won = a.TryAcquireOrRenew();
  bool b_won = b.TryAcquireOrRenew();
  EXPECT_NE(a_won, b_won);
  EXPECT_EQ(lease.record->lease_transitions, 1);
}

TEST_F(LeaderElectorTest, ReleaseClearsTheHolderSoASuccessorNeedNotWait) {
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  ASSERT_TRUE(a.Release());
  EXPECT_EQ(lease.record->holder_identity, "");
  EXPECT_EQ(lease.record->lease_duration_seconds, 1);
  EXPECT_FALSE(a.IsLeader());
  EXPECT_TRUE(b.TryAcquireOrRenew());  // no wait: nobody holds it
  EXPECT_EQ(lease.record->lease_transitions, 1);
}

TEST_F(LeaderElectorTest, FailedRenewalsLoseTheFastPathOnceTheLeaseWouldHaveExpired) {
  ASSERT_TRUE(a.TryAcquireOrRenew());
  lock_a.fail_writes = true;
  lock_a.fail_reads = true;
  clock.Advance(absl::Seconds(2));
  EXPECT_FALSE(a.TryAcquireOrRenew());
  lock_a.fail_writes = false;
  lock_a.fail_reads = false;
  clock.Advance(absl::Seconds(2));
  EXPECT_TRUE(a.TryAcquireOrRenew());  // still ours: recovered within the deadline
  EXPECT_EQ(lease.record->lease_transitions, 0);
}

TEST_F(LeaderElectorTest, RunReturnsAfterStopAndReleases) {
  // An elector of its own: Run() needs callbacks the fixture's candidates do not have.
  FakeLeaseLock lock(lease);
  auto config = Config("a");
  config.lease_duration = absl::Seconds(3);
  config.renew_deadline = absl::Seconds(2);
  config.retry_period = absl::Milliseconds(100);
  bool started = false, stopped = false;
  LeaderElector* self = nullptr;
  config.on_started_leading = [&] {
    started = true;
    self->Stop();
  };
  config.on_stopped_leading = [&] { stopped = true; };
  LeaderElector elector(lock, config);
  self = &elector;
  elector.Run();
  EXPECT_TRUE(started);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(lease.record->holder_identity, "");
}

}  // namespace
}  // namespace kubedl::kube
