// A job the SPEC §3 checks refuse (core/invalid_job.h): it fails once with <Kind>FailedValidation and
// every problem's path, gets no pods, and is not requeued.
#include "core/invalid_job.h"

#include <string>

#include "core/expectations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/conditions.h"
#include "kubedl/api/job_codec.h"
#include "reconciler_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

using ::testing::HasSubstr;

class RefuseInvalidJobTest : public SubmittedJobTest {
 protected:
  RefuseInvalidJobTest() {
    deps_.client = &cluster_;
    deps_.events = &events_;
    deps_.clock = &clock_;
    Submit(TfJob(Workers(-1)));
  }
  kube::ReconcileResult Refuse() {
    return RefuseInvalidJob(deps_, written_, kKey, api::JobKind::kTFJob, object_,
                            {api::Invalid("spec.tfReplicaSpecs[Worker].replicas", -1,
                                          "must be greater than or equal to 0")});
  }
  api::JobStatus StoredStatus() {
    return *api::ParseJobStatus(api::Json(Stored().value("status", Object::object())));
  }

  const std::string kKey = "TFJob/ns/job";
  ReconcilerDeps deps_;
  WrittenState written_;
};

TEST_F(RefuseInvalidJobTest, TheJobFailsWithFailedValidationAndThePathOfEachProblem) {
  const kube::ReconcileResult result = Refuse();
  EXPECT_FALSE(result.error || result.requeue || result.requeue_after > absl::ZeroDuration());
  const api::JobStatus status = StoredStatus();
  const api::JobCondition* failed = api::FindCondition(status, api::kJobFailed);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status, "True");
  EXPECT_EQ(failed->reason, "TFJobFailedValidation");
  EXPECT_THAT(failed->message,
              HasSubstr("spec.tfReplicaSpecs[Worker].replicas: Invalid value: -1"));
  EXPECT_EQ(api::FindCondition(status, api::kJobRunning)->status, "False");
  EXPECT_EQ(status.completion_time, "2027-01-15T08:00:00Z");
  EXPECT_EQ(events_.Count("TFJobFailedValidation"), 1u);
  EXPECT_EQ(events_.TypeOf("TFJobFailedValidation"), "Warning");
  EXPECT_EQ(events_.MessageOf("TFJobFailedValidation"), failed->message);
}

TEST_F(RefuseInvalidJobTest, AJobNeverSeenBeforeIsMarkedCreatedFirst) {
  Refuse();
  const api::JobStatus status = StoredStatus();
  const api::JobCondition* created = api::FindCondition(status, api::kJobCreated);
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->reason, "TFJobCreated");
  EXPECT_EQ(created->message, "TFJob job is created.");
}

TEST_F(RefuseInvalidJobTest, TheRefusalIsRememberedForTheJobsUid) {
  Refuse();
  const std::optional<api::JobStatus> remembered = written_.FinishedStatus(kKey, "job-uid");
  ASSERT_TRUE(remembered.has_value());
  EXPECT_EQ(*remembered, StoredStatus());
}

TEST_F(RefuseInvalidJobTest, AFinishedJobIsLeftAsItIs) {
  Refuse();
  object_ = Stored();
  const int writes = cluster_.status_writes();
  const size_t events = events_.size();
  clock_.Advance(absl::Minutes(1));
  EXPECT_FALSE(Refuse().error);
  EXPECT_EQ(cluster_.status_writes(), writes);
  EXPECT_EQ(events_.size(), events);
}

TEST_F(RefuseInvalidJobTest, AFailedWriteIsRetriedWithBackoffAndNotRemembered) {
  cluster_.FailStatusWrites(kube::MakeApiError(409, "Conflict", "modified"));
  EXPECT_TRUE(Refuse().error);
  EXPECT_FALSE(written_.FinishedStatus(kKey, "job-uid").has_value());
}

TEST_F(RefuseInvalidJobTest, AJobDeletedMeanwhileIsNoError) {
  cluster_.FailStatusWrites(kube::MakeApiError(404, "NotFound", "gone"));
  EXPECT_FALSE(Refuse().error);
  EXPECT_FALSE(written_.FinishedStatus(kKey, "job-uid").has_value());
}

}  // namespace
}  // namespace kubedl::reconciler::testing
