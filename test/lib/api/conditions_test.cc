#include "kubedl/api/conditions.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kubedl::api {
namespace {

constexpr char kT1[] = "2024-01-01T00:00:01Z";
constexpr char kT2[] = "2024-01-01T00:00:02Z";
constexpr char kT3[] = "2024-01-01T00:00:03Z";

std::vector<std::string> Types(const JobStatus& s) {
  std::vector<std::string> out;
  for (const auto& c : s.conditions) out.push_back(c.type + "=" + c.status);
  return out;
}

TEST(ConditionsTest, ReasonIsKindPlusSuffix) {
  EXPECT_EQ(ConditionReason(JobKind::kTFJob, kJobCreated), "TFJobCreated");
  EXPECT_EQ(ConditionReason(JobKind::kPyTorchJob, kJobRunning), "PyTorchJobRunning");
  EXPECT_EQ(ConditionReason(JobKind::kXGBoostJob, kJobRestarting), "XGBoostJobRestarting");
  EXPECT_EQ(ConditionReason(JobKind::kXDLJob, kJobSucceeded), "XDLJobSucceeded");
  EXPECT_EQ(ConditionReason(JobKind::kTFJob, kJobResumed), "TFJobResumed");
}

TEST(ConditionsTest, NewConditionIsTrueAndGoesLast) {
  JobStatus s;
  EXPECT_TRUE(SetCondition(s, kJobCreated, "TFJobCreated", "created", kT1));
  EXPECT_TRUE(SetCondition(s, kJobRunning, "TFJobRunning", "running", kT2));
  EXPECT_THAT(Types(s), ::testing::ElementsAre("Created=True", "Running=True"));
  EXPECT_EQ(s.conditions[1].last_transition_time, kT2);
  EXPECT_EQ(CurrentState(s), "Running");
}

TEST(ConditionsTest, SameTypeStatusAndReasonRewritesNothing) {
  JobStatus s;
  SetCondition(s, kJobRunning, "TFJobRunning", "first", kT1);
  JobStatus before = s;
  EXPECT_FALSE(SetCondition(s, kJobRunning, "TFJobRunning", "second message", kT2));
  EXPECT_EQ(s, before);
}

TEST(ConditionsTest, RunningAndRestartingReplaceEachOther) {
  JobStatus s;
  SetCondition(s, kJobCreated, "TFJobCreated", "", kT1);
  SetCondition(s, kJobRunning, "TFJobRunning", "", kT1);
  SetCondition(s, kJobRestarting, "TFJobRestarting", "", kT2);
  EXPECT_THAT(Types(s), ::testing::ElementsAre("Created=True", "Restarting=True"));
  SetCondition(s, kJobRunning, "TFJobRunning", "", kT3);
  EXPECT_THAT(Types(s), ::testing::ElementsAre("Created=True", "Running=True"));
}

TEST(ConditionsTest, TerminalConditionFlipsRunningToFalse) {
  JobStatus s;
  SetCondition(s, kJobRunning, "TFJobRunning", "", kT1);
  SetCondition(s, kJobSucceeded, "TFJobSucceeded", "done", kT2);
  EXPECT_THAT(Types(s), ::testing::ElementsAre("Running=False", "Succeeded=True"));
  EXPECT_EQ(s.conditions[0].last_transition_time, kT2);
  EXPECT_TRUE(IsSucceeded(s));
  EXPECT_TRUE(IsFinished(s));
}

TEST(ConditionsTest, FailedAndSucceededAreSticky) {
  for (std::string_view terminal : {kJobFailed, kJobSucceeded}) {
    JobStatus s;
    SetCondition(s, terminal, "X", "", kT1);
    JobStatus before = s;
    EXPECT_FALSE(SetCondition(s, kJobRunning, "TFJobRunning", "", kT2));
    EXPECT_FALSE(SetCondition(s, kJobRestarting, "TFJobRestarting", "", kT2));
    EXPECT_FALSE(SetCondition(s, kJobFailed, "TFJobFailed", "", kT2));
    EXPECT_EQ(s, before) << terminal;
  }
}

TEST(ConditionsTest, TransitionTimeMovesOnlyWhenStatusChanges) {
  JobStatus s;
  SetCondition(s, kJobSuspended, kConditionTrue, "TFJobSuspended", "", kT1);
  // Same status, new reason: rewritten, but the transition time stays.
  EXPECT_TRUE(SetCondition(s, kJobSuspended, kConditionTrue, "TFJobSuspendedAgain", "", kT2));
  EXPECT_EQ(FindCondition(s, kJobSuspended)->last_transition_time, kT1);
  EXPECT_EQ(FindCondition(s, kJobSuspended)->last_update_time, kT2);
  EXPECT_TRUE(IsSuspended(s));
  // Status change: the transition time moves.
  EXPECT_TRUE(SetCondition(s, kJobSuspended, kConditionFalse, "TFJobResumed", "", kT3));
  EXPECT_EQ(FindCondition(s, kJobSuspended)->last_transition_time, kT3);
  EXPECT_FALSE(IsSuspended(s));
}

TEST(ConditionsTest, SuspendSetsRunningFalseWithoutDroppingIt) {
  JobStatus s;
  SetCondition(s, kJobRunning, "TFJobRunning", "", kT1);
  SetCondition(s, kJobSuspended, "TFJobSuspended", "", kT2);
  SetCondition(s, kJobRunning, kConditionFalse, "TFJobSuspended", "", kT2);
  EXPECT_THAT(Types(s), ::testing::ElementsAre("Suspended=True", "Running=False"));
}

}  // namespace
}  // namespace kubedl::api
