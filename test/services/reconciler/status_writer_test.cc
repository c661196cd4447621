// A job's status as a pass changes and writes it (core/status_writer.h): conditions and their
// events, failing, and the write (a JSON Patch of the status subresource guarded by the job's
// uid) with its retries and what it remembers.
#include "core/status_writer.h"

#include <memory>
#include <optional>
#include <string>

#include "core/written_state.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/conditions.h"
#include "kubedl/api/job_codec.h"
#include "reconciler_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

class StatusWriterTest : public SubmittedJobTest {
 protected:
  StatusWriterTest() { Submit(TfJob(Workers(1))); }

  // A writer of a pass that starts now (one per pass, as JobPass makes them).
  StatusWriter& Writer() {
    writer_ = std::make_unique<StatusWriter>(cluster_, events_, nullptr, written_, kKey, job_,
                                             object_, clock_.Now());
    return *writer_;
  }
  // The status the API server holds.
  api::JobStatus StoredStatus() {
    auto status = api::ParseJobStatus(api::Json(Stored().value("status", Object::object())));
    EXPECT_TRUE(status.ok()) << status.status();
    return status.ok() ? *status : api::JobStatus();
  }

  const std::string kKey = "TFJob/ns/job";
  WrittenState written_;
  std::unique_ptr<StatusWriter> writer_;
};

TEST_F(StatusWriterTest, AConditionTurningTrueIsRecordedAsAnEventOfItsReason) {
  Writer().SetCondition(api::kJobRunning, api::kConditionTrue, api::kJobRunning, "running");
  EXPECT_EQ(events_.Count("TFJobRunning"), 1u);
  EXPECT_EQ(events_.TypeOf("TFJobRunning"), "Normal");
  EXPECT_EQ(events_.MessageOf("TFJobRunning"), "running");
  const api::JobCondition* c = api::FindCondition(job_.status, api::kJobRunning);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "TFJobRunning");
  EXPECT_EQ(c->last_transition_time, "2027-01-15T08:00:00Z");
}

TEST_F(StatusWriterTest, NoEventWhenAConditionStaysTrueOrTurnsFalse) {
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobRunning, api::kConditionTrue, api::kJobRunning, "running");
  writer.SetCondition(api::kJobRunning, api::kConditionTrue, api::kJobRunning, "still running");
  writer.SetCondition(api::kJobSuspended, api::kConditionFalse, api::kJobResumed, "resumed");
  writer.SetCondition(api::kJobRunning, api::kConditionFalse, api::kJobSuspended, "suspended");
  EXPECT_EQ(events_.size(), 1u);
  EXPECT_FALSE(api::HasTrueCondition(job_.status, api::kJobSuspended));
  EXPECT_EQ(api::FindCondition(job_.status, api::kJobRunning)->status, "False");
}

TEST_F(StatusWriterTest, TheEventTypeIsTheCallersChoice) {
  Writer().SetCondition(api::kJobRestarting, api::kConditionTrue, api::kJobRestarting,
                        "restarting", "Warning");
  EXPECT_EQ(events_.TypeOf("TFJobRestarting"), "Warning");
}

TEST_F(StatusWriterTest, FailSetsFailedAWarningAndTheCompletionTimeOnce) {
  StatusWriter& writer = Writer();
  writer.Fail("DeadlineExceeded", "too long");
  EXPECT_TRUE(api::IsFailed(job_.status));
  EXPECT_EQ(api::FindCondition(job_.status, api::kJobFailed)->reason, "TFJobDeadlineExceeded");
  EXPECT_EQ(events_.TypeOf("TFJobDeadlineExceeded"), "Warning");
  EXPECT_EQ(job_.status.completion_time, "2027-01-15T08:00:00Z");
  job_.status.completion_time = "2027-01-01T00:00:00Z";
  writer.Fail("BackoffLimitExceeded", "again");
  EXPECT_EQ(job_.status.completion_time, "2027-01-01T00:00:00Z") << "kept";
  EXPECT_EQ(events_.size(), 1u) << "a failed job fails once";
}

TEST_F(StatusWriterTest, FailAsInvalidStopsRunningWithFailedValidationAndOneWarning) {
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobRunning, api::kConditionTrue, api::kJobRunning, "running");
  writer.FailAsInvalid("TFJob ns/job is invalid: refused");
  const api::JobCondition* failed = api::FindCondition(job_.status, api::kJobFailed);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status, "True");
  EXPECT_EQ(failed->reason, "TFJobFailedValidation");
  EXPECT_EQ(failed->message, "TFJob ns/job is invalid: refused");
  const api::JobCondition* running = api::FindCondition(job_.status, api::kJobRunning);
  EXPECT_EQ(running->status, "False");
  EXPECT_EQ(running->reason, "TFJobFailedValidation");
  EXPECT_EQ(events_.Count("TFJobFailedValidation"), 1u);
  EXPECT_EQ(events_.TypeOf("TFJobFailedValidation"), "Warning");
  EXPECT_EQ(job_.status.completion_time, "2027-01-15T08:00:00Z");
  writer.FailAsInvalid("TFJob ns/job is invalid: refused");
  EXPECT_EQ(events_.Count("TFJobFailedValidation"), 1u);
}

TEST_F(StatusWriterTest, JobIsSaysKindNameAndWhat) {
  EXPECT_EQ(Writer().JobIs("running"), "TFJob job is running.");
}

TEST_F(StatusWriterTest, TheCreatedMessageChangesWithoutAnEvent) {
  Writer().SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated, "created");
  clock_.Advance(absl::Seconds(5));
  StatusWriter& writer = Writer();
  writer.NoteCreatedMessage("waiting for the gang");
  const api::JobCondition* created = api::FindCondition(job_.status, api::kJobCreated);
  EXPECT_EQ(created->message, "waiting for the gang");
  EXPECT_EQ(created->last_update_time, "2027-01-15T08:00:05Z");
  EXPECT_EQ(created->last_transition_time, "2027-01-15T08:00:00Z");
  EXPECT_EQ(events_.Count("TFJobCreated"), 1u);
}

TEST_F(StatusWriterTest, ReplicaCountsMoveFromActiveToSucceededOrAreCleared) {
  StatusWriter& writer = Writer();
  writer.SetReplicaStatuses({{"Worker", {.active = 2, .succeeded = 1}}, {"PS", {.active = 1}}});
  writer.CountActiveAsSucceeded();
  EXPECT_EQ(job_.status.replica_statuses["Worker"], (api::ReplicaStatus{.succeeded = 3}));
  EXPECT_EQ(job_.status.replica_statuses["PS"], (api::ReplicaStatus{.succeeded = 1}));
  writer.SetReplicaStatuses({{"Worker", {.active = 4, .failed = 1}}});
  writer.ClearActive();
  EXPECT_EQ(job_.status.replica_statuses["Worker"], (api::ReplicaStatus{.failed = 1}));
}

TEST_F(StatusWriterTest, AnUnchangedStatusIsNotWritten) {
  EXPECT_TRUE(Writer().Write());
  EXPECT_EQ(cluster_.status_writes(), 0);
}

TEST_F(StatusWriterTest, AChangedStatusIsWrittenToTheStatusSubresource) {
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated, "created");
  EXPECT_TRUE(writer.Write());
  EXPECT_EQ(cluster_.status_writes(), 1);
  EXPECT_EQ(StoredStatus(), job_.status);
  EXPECT_FALSE(written_.FinishedStatus(kKey, "job-uid").has_value()) << "not finished";
}

// Status is the reconciler's alone: an edit made after the pass read the job (a label, a newer
// resourceVersion) costs no conflict and survives the write.
TEST_F(StatusWriterTest, AnEditMadeAfterThePassReadTheJobCostsNoConflictAndIsKept) {
  Object edited = Stored();
  edited["metadata"]["labels"] = {{"edited", "yes"}};
  cluster_.Put("tfjobs", edited);
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated, "created");
  EXPECT_TRUE(writer.Write());
  EXPECT_EQ(cluster_.status_writes(), 1);
  EXPECT_EQ(StoredStatus(), job_.status);
  EXPECT_EQ(Stored()["metadata"]["labels"]["edited"], "yes");
}

TEST_F(StatusWriterTest, AConflictTheServerGaveUpOnIsRetried) {
  cluster_.FailStatusWrites(kube::MakeApiError(409, "Conflict", "modified"));
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated, "created");
  EXPECT_TRUE(writer.Write());
  EXPECT_EQ(cluster_.status_writes(), 2);
  EXPECT_EQ(StoredStatus(), job_.status);
}

// The job was deleted and created again under its name while the pass ran: the old job's status
// must not land on the new one.
TEST_F(StatusWriterTest, AJobCreatedAgainUnderTheSameNameDoesNotGetTheOldJobsStatus) {
  Object recreated = Stored();
  recreated["metadata"]["uid"] = "another-uid";
  recreated.erase("status");
  cluster_.Put("tfjobs", recreated);
  StatusWriter& writer = Writer();
  writer.Fail(api::kJobFailed, "failed");
  EXPECT_TRUE(writer.Write()) << "nothing left to write: the job the pass read is gone";
  EXPECT_FALSE(Stored().contains("status"));
  EXPECT_FALSE(written_.FinishedStatus(kKey, "job-uid").has_value());
}

// A status the server refuses (422) for the job that is still there is an error to retry.
TEST_F(StatusWriterTest, AStatusTheServerRefusesForTheSameJobIsRetriedWithBackoff) {
  cluster_.FailStatusWrites(kube::MakeApiError(422, "Invalid", "status.conditions: Invalid value"));
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated, "created");
  EXPECT_FALSE(writer.Write());
  EXPECT_EQ(cluster_.status_writes(), 1);
}

TEST_F(StatusWriterTest, ThreeConflictsInARowGiveUpForABackoff) {
  cluster_.FailStatusWrites(kube::MakeApiError(409, "Conflict", "modified"), 3);
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated, "created");
  EXPECT_FALSE(writer.Write());
  EXPECT_EQ(cluster_.status_writes(), 3);
  EXPECT_TRUE(StoredStatus().conditions.empty());
}

TEST_F(StatusWriterTest, OtherErrorsAreNotRetriedHere) {
  cluster_.FailStatusWrites(kube::MakeApiError(500, "InternalError", "etcd is down"));
  StatusWriter& writer = Writer();
  writer.Fail(api::kJobFailed, "failed");
  EXPECT_FALSE(writer.Write());
  EXPECT_EQ(cluster_.status_writes(), 1);
  EXPECT_FALSE(written_.FinishedStatus(kKey, "job-uid").has_value()) << "nothing was written";
}

TEST_F(StatusWriterTest, AJobDeletedMeanwhileNeedsNoStatus) {
  cluster_.FailStatusWrites(kube::MakeApiError(404, "NotFound", "gone"));
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated, "created");
  EXPECT_TRUE(writer.Write());
}

TEST_F(StatusWriterTest, AFinishedStatusWrittenIsRememberedForItsUid) {
  StatusWriter& writer = Writer();
  writer.SetCondition(api::kJobSucceeded, api::kConditionTrue, api::kJobSucceeded, "done");
  ASSERT_TRUE(writer.Write());
  const std::optional<api::JobStatus> remembered = written_.FinishedStatus(kKey, "job-uid");
  ASSERT_TRUE(remembered.has_value());
  EXPECT_EQ(*remembered, job_.status);
  EXPECT_FALSE(written_.FinishedStatus(kKey, "another-uid").has_value());
}

}  // namespace
}  // namespace kubedl::reconciler::testing
