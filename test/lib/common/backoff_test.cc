#include "kubedl/common/backoff.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace kubedl::common {
namespace {

std::vector<absl::Duration> Delays(Backoff& backoff, int n) {
  std::vector<absl::Duration> out;
  for (int i = 0; i < n; ++i) out.push_back(backoff.Next());
  return out;
}

TEST(BackoffTest, DoublesFromInitialUpToMax) {
  Backoff backoff({.initial = absl::Milliseconds(100), .max = absl::Milliseconds(500)});
  EXPECT_EQ(Delays(backoff, 5),
            (std::vector<absl::Duration>{absl::Milliseconds(100), absl::Milliseconds(200),
                                         absl::Milliseconds(400), absl::Milliseconds(500),
                                         absl::Milliseconds(500)}));
  EXPECT_EQ(backoff.Attempts(), 5);
}

TEST(BackoffTest, ResetStartsOverFromInitial) {
  Backoff backoff({.initial = absl::Milliseconds(5), .max = absl::Seconds(1000)});
  Delays(backoff, 3);
  backoff.Reset();
  EXPECT_EQ(backoff.Attempts(), 0);
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(5));
}

TEST(BackoffTest, ReachesTheCapExactlyAfterManySteps) {
  Backoff backoff({.initial = absl::Milliseconds(5), .max = absl::Seconds(1000)});
  // 5 ms * 2^17 = 655.36 s is the last uncapped delay.
  for (int i = 0; i < 17; ++i) backoff.Next();
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(655360));
  EXPECT_EQ(backoff.Next(), absl::Seconds(1000));
  for (int i = 0; i < 100; ++i) backoff.Next();  // no overflow past the cap
  EXPECT_EQ(backoff.Next(), absl::Seconds(1000));
}

TEST(BackoffTest, AnInitialAboveTheMaxIsTheMax) {
  Backoff backoff({.initial = absl::Seconds(10), .max = absl::Seconds(3)});
  EXPECT_EQ(backoff.Next(), absl::Seconds(3));
}

TEST(BackoffTest, FactorOneKeepsTheDelayConstant) {
  Backoff backoff({.initial = absl::Seconds(2), .max = absl::Seconds(2), .factor = 1});
  EXPECT_EQ(Delays(backoff, 3), std::vector<absl::Duration>(3, absl::Seconds(2)));
}

TEST(BackoffTest, JitterStaysWithinItsRangeOfTheUnjitteredDelay) {
  Backoff backoff({.initial = absl::Milliseconds(100),
                   .max = absl::Seconds(30),
                   .min_jitter = 0.5,
                   .max_jitter = 1.0,
                   .seed = 7});
  absl::Duration unjittered = absl::Milliseconds(100);
  for (int i = 0; i < 20; ++i) {
    absl::Duration delay = backoff.Next();
    EXPECT_GE(delay, unjittered * 0.5) << "attempt " << i;
    EXPECT_LT(delay, unjittered) << "attempt " << i;
    unjittered = std::min(unjittered * 2, absl::Seconds(30));
  }
}

TEST(BackoffTest, JitterSpreadsTheDelays) {
  Backoff backoff({.initial = absl::Seconds(1),
                   .max = absl::Seconds(1),
                   .factor = 1,
                   .min_jitter = 1.0,
                   .max_jitter = 2.2,
                   .seed = 1});
  std::vector<absl::Duration> delays = Delays(backoff, 50);
  EXPECT_NE(*std::min_element(delays.begin(), delays.end()),
            *std::max_element(delays.begin(), delays.end()));
  for (absl::Duration d : delays) {
    EXPECT_GE(d, absl::Seconds(1));
    EXPECT_LT(d, absl::Seconds(2.2));
  }
}

TEST(BackoffTest, TheSameSeedGivesTheSameDelays) {
  BackoffOptions options{.min_jitter = 1.0, .max_jitter = 2.0, .seed = 42};
  Backoff first(options), second(options);
  EXPECT_EQ(Delays(first, 10), Delays(second, 10));
}

}  // namespace
}  // namespace kubedl::common
