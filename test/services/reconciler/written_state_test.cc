// What this process wrote for each job that the cache may not show yet (core/written_state.h).
#include "core/written_state.h"

#include <optional>

#include "gtest/gtest.h"
#include "kubedl/api/conditions.h"

namespace kubedl::reconciler {
namespace {

api::JobStatus Succeeded() {
  api::JobStatus status;
  api::SetCondition(status, api::kJobSucceeded, "TFJobSucceeded", "done", "2027-01-15T08:00:00Z");
  return status;
}

TEST(WrittenState, NothingIsKnownOfAJobNeverWritten) {
  WrittenState written;
  EXPECT_FALSE(written.FinishedStatus("TFJob/ns/a", "u1").has_value());
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u1"), 0);
  EXPECT_EQ(written.size(), 0u) << "asking adds no entry";
}

TEST(WrittenState, AFinishedStatusIsRememberedForItsJobAndUidUntilForgotten) {
  WrittenState written;
  written.RememberFinished("TFJob/ns/a", "u1", Succeeded());
  EXPECT_EQ(written.FinishedStatus("TFJob/ns/a", "u1"), Succeeded());
  EXPECT_FALSE(written.FinishedStatus("TFJob/ns/a", "u2").has_value())
      << "another job of that name";
  EXPECT_FALSE(written.FinishedStatus("TFJob/ns/b", "u1").has_value());
  EXPECT_EQ(written.size(), 1u);
  written.Forget("TFJob/ns/a");
  EXPECT_FALSE(written.FinishedStatus("TFJob/ns/a", "u1").has_value());
  EXPECT_EQ(written.size(), 0u);
  written.Forget("TFJob/ns/never");
  EXPECT_EQ(written.size(), 0u);
}

TEST(WrittenState, RecreationsAreRememberedPerJobAndOnlyGrow) {
  WrittenState written;
  written.RememberRecreations("TFJob/ns/a", "u1", 3);
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u1"), 3);
  written.RememberRecreations("TFJob/ns/a", "u1", 1);
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u1"), 3);
  written.RememberRecreations("TFJob/ns/a", "u1", 5);
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u1"), 5);
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u2"), 0);
}

TEST(WrittenState, BothAreKeptSideBySide) {
  WrittenState written;
  written.RememberRecreations("TFJob/ns/a", "u1", 2);
  written.RememberFinished("TFJob/ns/a", "u1", Succeeded());
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u1"), 2);
  EXPECT_TRUE(written.FinishedStatus("TFJob/ns/a", "u1").has_value());
  EXPECT_EQ(written.size(), 1u);
}

TEST(WrittenState, ANewUidForTheSameKeyStartsAfresh) {
  WrittenState written;
  written.RememberFinished("TFJob/ns/a", "u1", Succeeded());
  written.RememberRecreations("TFJob/ns/a", "u1", 7);
  written.RememberRecreations("TFJob/ns/a", "u2", 1);
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u2"), 1) << "not the old job's 7";
  EXPECT_FALSE(written.FinishedStatus("TFJob/ns/a", "u2").has_value());
  EXPECT_FALSE(written.FinishedStatus("TFJob/ns/a", "u1").has_value()) << "the old job is gone";
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u1"), 0);
  EXPECT_EQ(written.size(), 1u);
  written.RememberFinished("TFJob/ns/a", "u3", Succeeded());
  EXPECT_EQ(written.Recreations("TFJob/ns/a", "u3"), 0);
}

}  // namespace
}  // namespace kubedl::reconciler
