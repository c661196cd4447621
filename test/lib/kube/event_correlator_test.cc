#include "kubedl/kube/event_correlator.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kubedl::kube {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

EventSubject Job(const std::string& name) {
  return {"TFJob", "kubeflow.org/v1", "team-a", name, "uid-" + name, "7"};
}

TEST(EventCorrelatorTest, AnIdenticalEventCountsIntoTheSameEvent) {
  EventCorrelator correlator;
  CorrelatedEvent first = correlator.Correlate(Job("a"), "Normal", "Started", "it started", kStart);
  CorrelatedEvent again = correlator.Correlate(Job("a"), "Normal", "Started", "it started", kStart);
  EXPECT_EQ(first.key, again.key);
  EXPECT_EQ(again.message, "it started");
  EXPECT_FALSE(again.combined);
}

TEST(EventCorrelatorTest, TheTenthDifferentMessageAndAllAfterItAreCombined) {
  EventCorrelator correlator;
  std::set<EventKey> keys;
  for (int i = 0; i < 9; ++i) {
    CorrelatedEvent e = correlator.Correlate(Job("a"), "Normal", "SuccessfulCreatePod",
                                             absl::StrCat("Created pod: a-worker-", i), kStart);
    EXPECT_FALSE(e.combined) << i;
    EXPECT_EQ(e.message, absl::StrCat("Created pod: a-worker-", i));
    keys.insert(e.key);
  }
  EXPECT_EQ(keys.size(), 9u);
  CorrelatedEvent tenth = correlator.Correlate(Job("a"), "Normal", "SuccessfulCreatePod",
                                               "Created pod: a-worker-9", kStart);
  EXPECT_TRUE(tenth.combined);
  EXPECT_EQ(tenth.message, "(combined from similar events): Created pod: a-worker-9");
  EXPECT_FALSE(keys.contains(tenth.key));
  // A message seen before is combined now too, into the same Event.
  CorrelatedEvent repeated = correlator.Correlate(Job("a"), "Normal", "SuccessfulCreatePod",
                                                  "Created pod: a-worker-0", kStart);
  EXPECT_TRUE(repeated.combined);
  EXPECT_EQ(repeated.key, tenth.key);
  EXPECT_EQ(repeated.key, repeated.similar_key);
}

TEST(EventCorrelatorTest, ObjectsTypesAndReasonsAreCountedApart) {
  EventCorrelator correlator;
  for (int i = 0; i < 9; ++i) {
    correlator.Correlate(Job("a"), "Normal", "SuccessfulCreatePod", absl::StrCat(i), kStart);
  }
  EXPECT_FALSE(correlator.Correlate(Job("b"), "Normal", "SuccessfulCreatePod", "x", kStart).combined);
  EXPECT_FALSE(correlator.Correlate(Job("a"), "Warning", "SuccessfulCreatePod", "x", kStart).combined);
  EXPECT_FALSE(correlator.Correlate(Job("a"), "Normal", "SuccessfulDeletePod", "x", kStart).combined);
  EXPECT_TRUE(correlator.Correlate(Job("a"), "Normal", "SuccessfulCreatePod", "x", kStart).combined);
}

TEST(EventCorrelatorTest, AnObjectQuietForTheWindowStartsCountingAnew) {
  EventCorrelator correlator;
  for (int i = 0; i < 10; ++i) {
    correlator.Correlate(Job("a"), "Normal", "Restarting", absl::StrCat(i), kStart);
  }
  // Still within ten minutes of the last one: combined.
  EXPECT_TRUE(correlator
                  .Correlate(Job("a"), "Normal", "Restarting", "late", kStart + absl::Minutes(9))
                  .combined);
  EXPECT_FALSE(correlator
                   .Correlate(Job("a"), "Normal", "Restarting", "later",
                              kStart + absl::Minutes(19) + absl::Seconds(1))
                   .combined);
}

TEST(EventCorrelatorTest, RemembersAtMostCacheLimitObjects) {
  EventCorrelator correlator({.cache_limit = 8});
  for (int i = 0; i < 100; ++i) {
    correlator.Correlate(Job(absl::StrCat("job-", i)), "Normal", "Created", "x",
                         kStart + absl::Seconds(i));
    EXPECT_LE(correlator.cached(), 8u);
  }
  // The most recent objects are the ones remembered: job-99's "x" still counts, so "y" is its
  // tenth different message.
  for (int i = 0; i < 8; ++i) {
    correlator.Correlate(Job("job-99"), "Normal", "Created", absl::StrCat(i), kStart + absl::Seconds(100));
  }
  EXPECT_TRUE(correlator.Correlate(Job("job-99"), "Normal", "Created", "y", kStart + absl::Seconds(100))
                  .combined);
}

}  // namespace
}  // namespace kubedl::kube
