// A job's pods and services as one pass changes them (core/pod_control.h): what it owns and
// adopts, deleting with expectations and events, and creating in slow-start batches with each
// kind of refusal the API server can answer.
#include "core/pod_control.h"

#include <string>
#include <vector>

#include "core/thread_pool_parallel_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Names(const std::vector<Object>& objects) {
  std::vector<std::string> out;
  for (const Object& o : objects) out.push_back(kube::Name(o));
  return out;
}

class PodControlTest : public SubmittedJobTest {
 protected:
  PodControlTest() : expectations_(clock_) { Submit(TfJob(Workers(2))); }

  PodControl Control() { return PodControl(deps_, kKey, job_, object_); }
  // Creates of every pod and service of the workers, pods first.
  std::vector<CreateRequest> AllWorkers() const {
    const api::Replica* workers = job_.FindReplica("Worker");
    return {{workers, 0, true}, {workers, 1, true}, {workers, 0, false}, {workers, 1, false}};
  }
  CreateOutcome CreateAll(const std::vector<CreateRequest>& requests,
                          const std::function<bool()>& cancelled = [] { return false; }) {
    const PodBuilder builder(job_, framework_, options_, gang_);
    return Control().CreateAll(requests, builder, 1'000, cancelled);
  }
  void PutPod(const std::string& name, const std::string& phase) {
    Object pod = ReplicaPod("Worker", name == "job-worker-0" ? 0 : 1, phase);
    pod["metadata"]["name"] = name;
    cluster_.Put("pods", pod);
  }

  const std::string kKey = "TFJob/ns/job";
  Expectations expectations_;
  ThreadPoolParallelRunner runner_{2};
  PodControlDeps deps_{&cluster_, &cluster_.pods, &cluster_.services, &events_, &expectations_,
                       &runner_};
  ScriptedFramework framework_;
  FrameworkOptions options_;
  GangClient* gang_ = nullptr;
};

TEST_F(PodControlTest, OwnedPodsAreTheJobsNotBeingDeletedAndTheirDeleteIsObserved) {
  Object leaving = ReplicaPod("Worker", 1, "Running");
  leaving["metadata"]["deletionTimestamp"] = "2027-01-15T08:00:00Z";
  cluster_.Put("pods", ReplicaPod("Worker", 0, "Running"));
  cluster_.Put("pods", leaving);
  cluster_.Put("services", ReplicaPod("Worker", 0));
  cluster_.Sync();
  expectations_.ExpectDelete(kKey, kube::Uid(leaving));
  const OwnedObjects owned = Control().ObserveOwned();
  EXPECT_THAT(Names(owned.pods), ElementsAre("job-worker-0"));
  EXPECT_THAT(Names(owned.services), ElementsAre("job-worker-0"));
  EXPECT_FALSE(expectations_.DeletePending(kKey, kube::Uid(leaving)));
}

TEST_F(PodControlTest, OrphansWithTheJobsLabelsAreAdoptedAndOthersControllersPodsAreNot) {
  Object orphan = ReplicaPod("Worker", 0, "Running");
  orphan["metadata"].erase("ownerReferences");
  Object foreign = ReplicaPod("Worker", 1, "Running");
  foreign["metadata"]["ownerReferences"][0]["uid"] = "rs-uid";
  cluster_.Put("pods", orphan);
  cluster_.Put("pods", foreign);
  cluster_.Sync();
  const OwnedObjects owned = Control().ObserveOwned();
  EXPECT_THAT(Names(owned.pods), ElementsAre("job-worker-0"));
  EXPECT_EQ(kube::ControllerUid(*cluster_.Stored("pods", "job-worker-0")), "job-uid");
  EXPECT_EQ(kube::ControllerUid(*cluster_.Stored("pods", "job-worker-1")), "rs-uid");
}

TEST_F(PodControlTest, DeletingAPodExpectsItsDeleteAndSaysWhy) {
  PutPod("job-worker-0", "Failed");
  const Object pod = *cluster_.Stored("pods", "job-worker-0");
  EXPECT_TRUE(Control().DeletePod(pod, "recreated after Error"));
  EXPECT_THAT(cluster_.deletes(), ElementsAre("pods/job-worker-0"));
  EXPECT_TRUE(expectations_.DeletePending(kKey, kube::Uid(pod)));
  EXPECT_EQ(events_.MessageOf("SuccessfulDeletePod"),
            "Deleted pod: job-worker-0 (recreated after Error)");
  EXPECT_TRUE(Control().DeletePod(pod, "")) << "already gone counts as deleted";
}

TEST_F(PodControlTest, DeletingAServiceIsAnEvent) {
  cluster_.Put("services", ReplicaPod("Worker", 3));
  EXPECT_TRUE(Control().DeleteService(*cluster_.Stored("services", "job-worker-3")));
  EXPECT_EQ(events_.MessageOf("SuccessfulDeleteService"), "Deleted service: job-worker-3");
}

TEST_F(PodControlTest, DeleteAllUnfinishedKeepsEndedPodsAndTheirServices) {
  OwnedObjects owned;
  for (const char* phase : {"Running", "Pending", "", "Succeeded", "Failed"}) {
    Object pod = ReplicaPod("Worker", static_cast<int64_t>(owned.pods.size()), phase);
    cluster_.Put("pods", pod);
    cluster_.Put("services", pod);
    owned.pods.push_back(pod);
    owned.services.push_back(pod);
  }
  cluster_.Put("services", ReplicaPod("Worker", 9));
  owned.services.push_back(ReplicaPod("Worker", 9));
  EXPECT_TRUE(Control().DeleteAll(owned, /*only_unfinished=*/true));
  EXPECT_THAT(cluster_.Names("pods"), UnorderedElementsAre("job-worker-3", "job-worker-4"));
  EXPECT_THAT(cluster_.Names("services"),
              UnorderedElementsAre("job-worker-3", "job-worker-4", "job-worker-9"));
}

TEST_F(PodControlTest, DeleteAllDeletesEveryPodAndServiceEvenWithoutItsPod) {
  OwnedObjects owned;
  owned.pods = {ReplicaPod("Worker", 0, "Succeeded"), ReplicaPod("Worker", 1, "Running")};
  owned.services = {ReplicaPod("Worker", 0), ReplicaPod("Worker", 5)};
  for (const Object& o : owned.pods) cluster_.Put("pods", o);
  for (const Object& o : owned.services) cluster_.Put("services", o);
  EXPECT_TRUE(Control().DeleteAll(owned, /*only_unfinished=*/false));
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  EXPECT_THAT(cluster_.Names("services"), IsEmpty());
}

TEST_F(PodControlTest, CreatesEachObjectExpectingItAndRecordingIt) {
  const CreateOutcome outcome = CreateAll(AllWorkers());
  EXPECT_FALSE(outcome.failed || outcome.retry || outcome.look_again_soon);
  EXPECT_FALSE(outcome.refused_as_invalid.has_value());
  EXPECT_THAT(cluster_.Names("pods"), ElementsAre("job-worker-0", "job-worker-1"));
  EXPECT_THAT(cluster_.Names("services"), ElementsAre("job-worker-0", "job-worker-1"));
  EXPECT_EQ(events_.Count("SuccessfulCreatePod"), 2u);
  EXPECT_EQ(events_.Count("SuccessfulCreateService"), 2u);
  EXPECT_TRUE(expectations_.CreatePending(kKey, "job-worker-1"));
  EXPECT_TRUE(expectations_.CreatePending(kKey, "svc/job-worker-1"));
}

TEST_F(PodControlTest, AnObjectThatAlreadyExistsIsLookedAtAgainSoonNotFailed) {
  PutPod("job-worker-0", "Running");
  const CreateOutcome outcome = CreateAll({AllWorkers()[0]});
  EXPECT_TRUE(outcome.look_again_soon);
  EXPECT_FALSE(outcome.failed);
  EXPECT_FALSE(expectations_.CreatePending(kKey, "job-worker-0"));
  EXPECT_EQ(events_.size(), 0u);
}

TEST_F(PodControlTest, AnObjectRefusedAsInvalidFailsTheJobInsteadOfRetrying) {
  cluster_.RefuseCreates("pods", kube::MakeApiError(422, "Invalid", "spec.containers: Invalid"));
  const CreateOutcome outcome = CreateAll(AllWorkers());
  EXPECT_FALSE(outcome.failed);
  EXPECT_EQ(outcome.refused_as_invalid,
            "TFJob ns/job is invalid: the API server refused its pod job-worker-0: "
            "spec.containers: Invalid");
  EXPECT_EQ(events_.MessageOf("FailedCreatePod"),
            "Error creating pod job-worker-0: spec.containers: Invalid");
  EXPECT_FALSE(expectations_.CreatePending(kKey, "job-worker-0"));
  EXPECT_EQ(cluster_.CountCreates(""), 1u) << "a failed batch stops the rest";
}

TEST_F(PodControlTest, AnyOtherRefusalIsARetryWithBackoff) {
  cluster_.RefuseCreates("services", kube::MakeApiError(403, "Forbidden", "exceeded quota"));
  const CreateOutcome outcome = CreateAll({AllWorkers()[2]});
  EXPECT_TRUE(outcome.failed);
  EXPECT_FALSE(outcome.refused_as_invalid.has_value());
  EXPECT_EQ(events_.MessageOf("FailedCreateService"),
            "Error creating service job-worker-0: exceeded quota");
}

TEST_F(PodControlTest, APodThePluginCannotBuildIsAnEventAndTheServicesAreStillMade) {
  framework_.decorate_error = absl::InvalidArgumentError("no tensorflow container");
  const CreateOutcome outcome = CreateAll(AllWorkers());
  EXPECT_FALSE(outcome.failed);
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  EXPECT_EQ(cluster_.Names("services").size(), 2u);
  EXPECT_EQ(events_.Count("FailedCreatePod"), 2u);
  EXPECT_FALSE(expectations_.CreatePending(kKey, "job-worker-0"));
}

TEST_F(PodControlTest, APodThatMustWaitForItsGangAsksForARequeue) {
  ScriptedGang gang;
  gang.bind_error = absl::UnavailableError("unreachable");
  gang_ = &gang;
  const CreateOutcome outcome = CreateAll({AllWorkers()[0]});
  EXPECT_TRUE(outcome.retry);
  EXPECT_FALSE(outcome.failed);
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
}

TEST_F(PodControlTest, ACancelledPassSendsNoFurtherBatch) {
  int asked = 0;
  CreateAll(AllWorkers(), [&] { return ++asked > 1; });
  EXPECT_EQ(cluster_.CountCreates(""), 1u) << "the first batch is a single create";
}

}  // namespace
}  // namespace kubedl::reconciler::testing
