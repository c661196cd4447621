#include "core/expectations.h"

#include "gtest/gtest.h"

namespace kubedl::reconciler {
namespace {

class ManualClock : public kube::Clock {
 public:
  absl::Time Now() const override { return now; }
  absl::Time now = absl::FromUnixSeconds(1000);
};

TEST(Expectations, CreatePendingUntilObservedOrFailed) {
  ManualClock clock;
  Expectations e(clock);
  e.ExpectCreate("TFJob/ns/j", "j-worker-0");
  EXPECT_TRUE(e.CreatePending("TFJob/ns/j", "j-worker-0"));
  EXPECT_FALSE(e.CreatePending("TFJob/ns/j", "j-worker-1"));
  EXPECT_FALSE(e.CreatePending("TFJob/ns/other", "j-worker-0"));
  e.CreateObserved("TFJob/ns/j", "j-worker-0");
  EXPECT_FALSE(e.CreatePending("TFJob/ns/j", "j-worker-0"));
}

TEST(Expectations, DeletePendingUntilObserved) {
  ManualClock clock;
  Expectations e(clock);
  e.ExpectDelete("TFJob/ns/j", "uid-1");
  EXPECT_TRUE(e.DeletePending("TFJob/ns/j", "uid-1"));
  e.DeleteObserved("TFJob/ns/j", "uid-1");
  EXPECT_FALSE(e.DeletePending("TFJob/ns/j", "uid-1"));
}

TEST(Expectations, EntriesExpireSoALostEventCannotWedgeAJob) {
  ManualClock clock;
  Expectations e(clock, absl::Minutes(5));
  e.ExpectCreate("TFJob/ns/j", "j-worker-0");
  clock.now += absl::Minutes(6);
  EXPECT_FALSE(e.CreatePending("TFJob/ns/j", "j-worker-0"));
}

TEST(Expectations, ForgetDropsAJobsEntries) {
  ManualClock clock;
  Expectations e(clock);
  e.ExpectCreate("TFJob/ns/j", "a");
  e.ExpectDelete("TFJob/ns/j", "u");
  e.Forget("TFJob/ns/j");
  EXPECT_FALSE(e.CreatePending("TFJob/ns/j", "a"));
  EXPECT_FALSE(e.DeletePending("TFJob/ns/j", "u"));
}

}  // namespace
}  // namespace kubedl::reconciler
