// Gang scheduling as one pass sees it (core/gang_gate.h): no gang, an unreachable gang service,
// a gang waiting for admission, an admitted one, and releasing it.
#include "core/gang_gate.h"

#include <optional>

#include "gtest/gtest.h"
#include "reconciler_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

class GangGateTest : public SubmittedJobTest {
 protected:
  GangGateTest() { Submit(TfJob(Workers(2))); }
  GangGate Gate(GangClient* gang) { return GangGate(gang, events_, job_, object_); }

  ScriptedGang gang_;
};

TEST_F(GangGateTest, WithoutAGangClientEveryVerdictAllowsPods) {
  const GangVerdict verdict = Gate(nullptr).Admit();
  EXPECT_TRUE(verdict.allows_pods);
  EXPECT_EQ(verdict.created_message, "");
  EXPECT_FALSE(verdict.retry);
  EXPECT_FALSE(verdict.poll_in.has_value());
  EXPECT_TRUE(Gate(nullptr).Release());
  EXPECT_EQ(events_.size(), 0u);
}

TEST_F(GangGateTest, AGangServiceErrorHoldsPodsBackRetriesAndSaysWhy) {
  gang_.ensure_error = absl::UnavailableError("gang service at 127.0.0.1:1 is unreachable");
  const GangVerdict verdict = Gate(&gang_).Admit();
  EXPECT_FALSE(verdict.allows_pods);
  EXPECT_TRUE(verdict.retry);
  EXPECT_FALSE(verdict.poll_in.has_value());
  const std::string message =
      "TFJob ns/job is waiting for gang scheduling: gang service at 127.0.0.1:1 is unreachable";
  EXPECT_EQ(verdict.created_message, message);
  EXPECT_EQ(events_.TypeOf("GangSchedulingFailed"), "Warning");
  EXPECT_EQ(events_.MessageOf("GangSchedulingFailed"), message);
}

TEST_F(GangGateTest, APendingGangIsPolledInTwoSecondsWithItsPhaseInTheMessage) {
  gang_.admission = GangAdmission::kPending;
  gang_.phase = "Inqueue";
  const GangVerdict verdict = Gate(&gang_).Admit();
  EXPECT_FALSE(verdict.allows_pods);
  EXPECT_FALSE(verdict.retry);
  EXPECT_EQ(verdict.poll_in, absl::Seconds(2));
  EXPECT_EQ(verdict.created_message,
            "TFJob ns/job is waiting for its gang to be admitted (PodGroup phase Inqueue).");
  EXPECT_EQ(events_.size(), 0u) << "waiting is not an event";
}

TEST_F(GangGateTest, APendingGangWithoutAPhaseSaysUnset) {
  gang_.admission = GangAdmission::kPending;
  gang_.phase = "";
  EXPECT_EQ(Gate(&gang_).Admit().created_message,
            "TFJob ns/job is waiting for its gang to be admitted (PodGroup phase unset).");
}

TEST_F(GangGateTest, AnAdmittedGangAllowsPodsAndTheJobIsCreated) {
  const GangVerdict verdict = Gate(&gang_).Admit();
  EXPECT_TRUE(verdict.allows_pods);
  EXPECT_FALSE(verdict.retry);
  EXPECT_FALSE(verdict.poll_in.has_value());
  EXPECT_EQ(verdict.created_message, "TFJob job is created.");
  EXPECT_EQ(gang_.ensures, 1);
}

TEST_F(GangGateTest, ReleaseDeletesTheGang) {
  EXPECT_TRUE(Gate(&gang_).Release());
  EXPECT_EQ(gang_.deletes, 1);
  EXPECT_EQ(events_.size(), 0u);
}

TEST_F(GangGateTest, AFailedReleaseIsAWarningAndARetry) {
  gang_.delete_error = absl::DeadlineExceededError("deadline exceeded");
  EXPECT_FALSE(Gate(&gang_).Release());
  EXPECT_EQ(events_.TypeOf("GangDeleteFailed"), "Warning");
  EXPECT_EQ(events_.MessageOf("GangDeleteFailed"), "Deleting the gang failed: deadline exceeded");
}

}  // namespace
}  // namespace kubedl::reconciler::testing
