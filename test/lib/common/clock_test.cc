#include "kubedl/common/clock.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "kubedl/common/fake_clock.h"

namespace kubedl::common {
namespace {

TEST(ClockTest, RealClockIsTheWallClock) {
  absl::Time before = absl::Now();
  absl::Time now = RealClock().Now();
  EXPECT_GE(now, before);
  EXPECT_LE(now, absl::Now());
  EXPECT_EQ(&RealClock(), &RealClock());  // one per process
}

TEST(ClockTest, FakeClockStandsStillUntilAdvanced) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  clock.Advance(absl::Milliseconds(1500));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000) + absl::Milliseconds(1500));
}

}  // namespace
}  // namespace kubedl::common
