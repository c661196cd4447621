// The shared job controller against fakes of our interfaces (an in-memory API server whose
// caches lag until synced, a settable clock, a scripted gang client), with the real TFJob
// framework: naming and labels, expectations, the status machine, restart policies, backoff,
// deadline, TTL, clean policy, suspend, scale, gang calls, and status writes.
#include "core/job_reconciler.h"

#include <atomic>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "core/thread_pool_parallel_runner.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/conditions.h"
#include "reconciler_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class JobReconcilerTest : public ::testing::Test {
 protected:
  JobReconcilerTest() : expectations_(clock_) {}

  ReconcilerDeps DefaultDeps() {
    ReconcilerDeps deps;
    deps.client = &cluster_;
    deps.jobs = [this](api::JobKind kind) -> const kube::ObjectCache* {
      return kind == api::JobKind::kTFJob ? &cluster_.jobs : nullptr;
    };
    deps.pods = &cluster_.pods;
    deps.services = &cluster_.services;
    deps.events = &events_;
    deps.expectations = &expectations_;
    deps.gang = gang_;
    deps.clock = &clock_;
    deps.create_runner = &create_runner_;
    return deps;
  }

  JobReconciler& reconciler() {
    if (!reconciler_) reconciler_ = std::make_unique<JobReconciler>(DefaultDeps());
    return *reconciler_;
  }
  // The reconciler built from `deps` instead of the defaults.
  void UseDeps(ReconcilerDeps deps) { reconciler_ = std::make_unique<JobReconciler>(std::move(deps)); }

  void Submit(const Object& job) { cluster_.Put("tfjobs", job); }

  // One reconcile after the informers caught up (sync = false: they lag).
  kube::ReconcileResult Reconcile(bool sync = true) {
    if (sync) cluster_.Sync();
    return reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", "job"));
  }

  Object Job() { return *cluster_.Stored("tfjobs", "job"); }
  Object Cond(const std::string& type) {
    for (const Object& c : Job()["status"].value("conditions", Object::array())) {
      if (c.value("type", "") == type) return c;
    }
    return nullptr;
  }
  bool Is(const std::string& type, const std::string& status = "True") {
    Object c = Cond(type);
    return !c.is_null() && c.value("status", "") == status;
  }
  void AllPods(const std::string& phase) {
    for (const std::string& name : cluster_.Names("pods")) cluster_.SetPodPhase(name, phase);
  }
  // `job` runs, then worker 0 succeeds and a pass sees it.
  void RunUntilWorkerZeroSucceeds(const Object& job) {
    Submit(job);
    Reconcile();
    AllPods("Running");
    cluster_.SetPodPhase("job-worker-0", "Succeeded");
    Reconcile();
  }
  // Two workers under `policy` run, then worker 1 exits with `exit_code` and a pass sees it.
  void RunTwoWorkersThenEndOne(const std::string& policy, int exit_code) {
    Submit(TfJob(Workers(2, policy)));
    Reconcile();
    AllPods("Running");
    Reconcile();
    cluster_.SetPodPhase("job-worker-1", "Failed", exit_code);
    Reconcile();
  }

  FakeCluster cluster_;
  RecordingEvents events_;
  SettableClock clock_;
  Expectations expectations_;
  GangClient* gang_ = nullptr;
  ThreadPoolParallelRunner create_runner_{4};
  std::unique_ptr<JobReconciler> reconciler_;
};

TEST_F(JobReconcilerTest, CreatesEachPodAndHeadlessServiceWithLabelsAndControllerOwner) {
  Submit(TfJob(PsAndWorkers(2)));
  Reconcile();
  EXPECT_THAT(cluster_.Names("pods"), UnorderedElementsAre("job-ps-0", "job-worker-0", "job-worker-1"));
  EXPECT_THAT(cluster_.Names("services"),
              UnorderedElementsAre("job-ps-0", "job-worker-0", "job-worker-1"));
  Object pod = *cluster_.Stored("pods", "job-worker-0");
  ExpectLabels(pod["metadata"]["labels"],
               {{"training.kubeflow.org/operator-name", "tfjob-controller"},
                {"training.kubeflow.org/job-name", "job"},
                {"training.kubeflow.org/replica-type", "worker"},
                {"training.kubeflow.org/replica-index", "0"},
                {"training.kubeflow.org/job-role", "master"}, {"group-name", "kubeflow.org"},
                {"job-role", "master"}});
  EXPECT_FALSE(cluster_.Stored("pods", "job-ps-0")->at("metadata").at("labels").contains("job-role"));
  const Object& owner = pod["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], "job-uid");
  EXPECT_EQ(owner["kind"], "TFJob");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(owner["blockOwnerDeletion"], true);
  Object svc = *cluster_.Stored("services", "job-worker-0");
  EXPECT_EQ(svc["spec"]["clusterIP"], "None");
  EXPECT_EQ(svc["spec"]["ports"][0]["name"], "tfjob-port");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 2222);
  EXPECT_EQ(events_.Count("SuccessfulCreatePod"), 3u);
  EXPECT_EQ(events_.Count("SuccessfulCreateService"), 3u);
  EXPECT_TRUE(Is("Created"));
  EXPECT_EQ(Cond("Created")["reason"], "TFJobCreated");
}

TEST_F(JobReconcilerTest, ALaggingInformerNeverCausesASecondCreate) {
  Submit(TfJob(Workers(2)));
  Reconcile();
  // The caches have not seen the pods yet: expectations hold the creates back.
  for (int i = 0; i < 3; ++i) Reconcile(/*sync=*/false);
  EXPECT_EQ(cluster_.CountCreates("pods/"), 2u);
  EXPECT_EQ(cluster_.CountCreates("services/"), 2u);
}

TEST_F(JobReconcilerTest, AfterARestartAlreadyExistsCountsAsObservedNotAsFailure) {
  Submit(TfJob(Workers(2)));
  Reconcile();
  // A new process: fresh expectations, caches that do not show the pods yet.
  reconciler_.reset();
  expectations_.Forget(JobKey(api::JobKind::kTFJob, "ns", "job"));
  cluster_.pods.objects_.clear();
  cluster_.services.objects_.clear();
  kube::ReconcileResult result = reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", "job"));
  EXPECT_FALSE(result.error);
  EXPECT_EQ(events_.Count("FailedCreatePod"), 0u);
  EXPECT_EQ(cluster_.Names("pods").size(), 2u);
  EXPECT_GT(result.requeue_after, absl::ZeroDuration()) << "looks again once the cache caught up";
}

TEST_F(JobReconcilerTest, ARefusedCreateStopsThePassAfterItsBatchAndTheNextPassCreatesTheRest) {
  Submit(TfJob(Workers(8)));
  cluster_.RefuseCreates("pods", kube::MakeApiError(403, "Forbidden", "exceeded quota: pods"));
  EXPECT_TRUE(Reconcile().error);
  // Slow start: the first batch is a single create; its failure keeps the other 15 unsent.
  EXPECT_EQ(cluster_.CountCreates("pods/"), 1u);
  EXPECT_EQ(cluster_.CountCreates("services/"), 0u);
  EXPECT_EQ(events_.Count("FailedCreatePod"), 1u);

  cluster_.RefuseCreates("pods", absl::OkStatus());
  EXPECT_FALSE(Reconcile().error);
  EXPECT_EQ(cluster_.Names("pods").size(), 8u);
  EXPECT_EQ(cluster_.Names("services").size(), 8u);
  EXPECT_EQ(events_.Count("SuccessfulCreatePod"), 8u);
  EXPECT_EQ(events_.Count("SuccessfulCreateService"), 8u);
}

TEST_F(JobReconcilerTest, ExitCodePolicyBecomesNeverInThePodWithAWarningWhenTheTemplateDiffers) {
  Submit(TfJob(Workers(1, "ExitCode", Template("OnFailure"))));
  Reconcile();
  EXPECT_EQ(cluster_.Stored("pods", "job-worker-0")->at("spec")["restartPolicy"], "Never");
  EXPECT_EQ(events_.TypeOf("SetPodTemplateRestartPolicy"), "Warning");
}

TEST_F(JobReconcilerTest, ReplicaCountsComeFromPodPhasesAndWorkerZeroDecidesSuccess) {
  Submit(TfJob(Workers(2)));
  Reconcile();
  EXPECT_FALSE(Is("Running"));
  AllPods("Running");
  Reconcile();
  EXPECT_TRUE(Is("Running"));
  EXPECT_EQ(Job()["status"]["replicaStatuses"]["Worker"]["active"], 2);
  EXPECT_TRUE(Job()["status"].contains("startTime"));
  cluster_.SetPodPhase("job-worker-0", "Succeeded");
  Reconcile();
  EXPECT_TRUE(Is("Succeeded"));
  EXPECT_TRUE(Is("Running", "False"));
  EXPECT_EQ(Cond("Succeeded")["reason"], "TFJobSucceeded");
  EXPECT_TRUE(Job()["status"].contains("completionTime"));
  // Active replicas count as succeeded once the job is.
  EXPECT_EQ(Job()["status"]["replicaStatuses"]["Worker"]["succeeded"], 2);
  EXPECT_EQ(Job()["status"]["replicaStatuses"]["Worker"].value("active", 0), 0);
}

TEST_F(JobReconcilerTest, ExitedWithCodeEventEndsWithTheLastLineOfTheTerminationMessage) {
  Submit(TfJob(Workers(2, "Never")));
  Reconcile();
  AllPods("Running");
  Reconcile();
  cluster_.SetPodPhase("job-worker-1", "Failed", 1);
  cluster_.SetTerminationMessage(
      "job-worker-1", "Traceback (most recent call last):\n  ...\nValueError: loss is nan\n");
  Reconcile();
  EXPECT_EQ(events_.MessageOf("ExitedWithCode"),
            "Pod: ns.job-worker-1 exited with code 1: ValueError: loss is nan");
  EXPECT_EQ(events_.TypeOf("ExitedWithCode"), "Warning");
  EXPECT_TRUE(Is("Failed"));
}

TEST_F(JobReconcilerTest, ExitCode137RecreatesThePodAndMarksTheJobRestarting) {
  RunTwoWorkersThenEndOne("ExitCode", 137);
  EXPECT_THAT(cluster_.deletes(), ElementsAre("pods/job-worker-1"));
  EXPECT_TRUE(Is("Restarting"));
  EXPECT_TRUE(Cond("Running").is_null()) << "Restarting replaces Running";
  EXPECT_EQ(Job()["metadata"]["annotations"][kRecreationsAnnotation], "1");
  EXPECT_EQ(events_.Count("ExitedWithCode"), 1u);
  Reconcile();  // the informer saw the delete: the pod comes back
  EXPECT_THAT(cluster_.Names("pods"), Contains("job-worker-1"));
  AllPods("Running");
  Reconcile();
  EXPECT_TRUE(Is("Running"));
  EXPECT_TRUE(Cond("Restarting").is_null());
  EXPECT_FALSE(Is("Failed"));
}

TEST_F(JobReconcilerTest, ExitCode1UnderExitCodeFailsTheJobWithTheReplicaMessage) {
  RunTwoWorkersThenEndOne("ExitCode", 1);
  EXPECT_TRUE(Is("Failed"));
  EXPECT_EQ(Cond("Failed")["message"], "TFJob ns/job has failed because 1 Worker replica(s) failed.");
  EXPECT_TRUE(cluster_.deletes().empty());
  EXPECT_EQ(Job()["status"]["replicaStatuses"]["Worker"]["failed"], 1);
}

TEST_F(JobReconcilerTest, OomKilledIsRetryableEvenUnderNever) {
  Submit(TfJob(Workers(1, "Never")));
  Reconcile();
  cluster_.SetPodPhase("job-worker-0", "Failed", 137, "OOMKilled");
  Reconcile();
  EXPECT_FALSE(Is("Failed"));
  EXPECT_TRUE(Is("Restarting"));
}

TEST_F(JobReconcilerTest, BackoffLimitCountsContainerRestartsToo) {
  Submit(TfJob(Workers(1, "OnFailure"), {{"backoffLimit", 2}}));
  Reconcile();
  cluster_.SetPodPhase("job-worker-0", "Running", 0, "", /*restarts=*/3);
  Reconcile();
  EXPECT_TRUE(Is("Failed"));
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobBackoffLimitExceeded");
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(), HasSubstr("backoff limit (2)"));
}

TEST_F(JobReconcilerTest, BackoffLimitCountsRecreationsAcrossPasses) {
  Submit(TfJob(Workers(1, "ExitCode"), {{"backoffLimit", 1}}));
  Reconcile();
  for (int round = 0; round < 2; ++round) {
    cluster_.SetPodPhase("job-worker-0", "Failed", 137);
    Reconcile();  // deletes
    Reconcile();  // recreates
  }
  EXPECT_TRUE(Is("Failed"));
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobBackoffLimitExceeded");
}

TEST_F(JobReconcilerTest, ActiveDeadlineRequeuesForTheRestAndThenFails) {
  Submit(TfJob(Workers(1), {{"activeDeadlineSeconds", 30}}));
  kube::ReconcileResult first = Reconcile();
  EXPECT_EQ(first.requeue_after, absl::Seconds(30));
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(Reconcile().requeue_after, absl::Seconds(20));
  clock_.Advance(absl::Seconds(21));
  Reconcile();
  EXPECT_TRUE(Is("Failed"));
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobDeadlineExceeded");
}

TEST_F(JobReconcilerTest, TtlAfterFinishedRequeuesThenDeletesTheJob) {
  Submit(TfJob(Workers(1), {{"ttlSecondsAfterFinished", 60}}));
  Reconcile();
  cluster_.SetPodPhase("job-worker-0", "Succeeded");
  EXPECT_EQ(Reconcile().requeue_after, absl::Seconds(60));
  clock_.Advance(absl::Seconds(61));
  Reconcile();
  EXPECT_FALSE(cluster_.Stored("tfjobs", "job").has_value());
}

TEST_F(JobReconcilerTest, CleanPodPolicyRunningDeletesOnlyUnfinishedPodsAndTheirServices) {
  RunUntilWorkerZeroSucceeds(TfJob(PsAndWorkers(1), {{"cleanPodPolicy", "Running"}}));
  EXPECT_TRUE(Is("Succeeded"));
  EXPECT_THAT(cluster_.Names("pods"), ElementsAre("job-worker-0"));
  EXPECT_THAT(cluster_.Names("services"), ElementsAre("job-worker-0"));
}

TEST_F(JobReconcilerTest, CleanPodPolicyAllDeletesEverything) {
  RunUntilWorkerZeroSucceeds(TfJob(Workers(2), {{"cleanPodPolicy", "All"}}));
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  EXPECT_THAT(cluster_.Names("services"), IsEmpty());
}

TEST_F(JobReconcilerTest, AStaleJobCacheAfterSuccessNeverRecreatesCleanedPods) {
  Submit(TfJob(Workers(2), {{"cleanPodPolicy", "All"}}));
  Reconcile();
  AllPods("Running");
  cluster_.SetPodPhase("job-worker-0", "Succeeded");
  cluster_.Sync();
  const auto stale_jobs = cluster_.jobs.objects_;  // before the Succeeded status was written
  reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", "job"));
  ASSERT_TRUE(Is("Succeeded"));
  ASSERT_THAT(cluster_.Names("pods"), IsEmpty());
  // The pods' deletion reaches the cache before the job's new status does.
  cluster_.Sync();
  cluster_.jobs.objects_ = stale_jobs;
  reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", "job"));
  EXPECT_EQ(cluster_.CountCreates("pods/"), 2u);
  EXPECT_EQ(cluster_.CountCreates("services/"), 2u);
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
}

TEST_F(JobReconcilerTest, CleanPodPolicyNoneKeepsEverything) {
  RunUntilWorkerZeroSucceeds(TfJob(Workers(2)));
  EXPECT_EQ(cluster_.Names("pods").size(), 2u);
  EXPECT_TRUE(cluster_.deletes().empty());
}

TEST_F(JobReconcilerTest, SuspendDeletesPodsAndServicesAndResumeResetsStartTime) {
  Submit(TfJob(Workers(2)));
  Reconcile();
  AllPods("Running");
  Reconcile();
  const std::string started = Job()["status"]["startTime"];
  Object job = Job();
  job["spec"]["runPolicy"] = {{"suspend", true}};
  cluster_.Put("tfjobs", job);
  Reconcile();
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  EXPECT_THAT(cluster_.Names("services"), IsEmpty());
  EXPECT_TRUE(Is("Suspended"));
  EXPECT_TRUE(Is("Running", "False"));
  Reconcile();
  EXPECT_EQ(cluster_.CountCreates("pods/"), 2u) << "no pods while suspended";

  clock_.Advance(absl::Seconds(5));
  job = Job();
  job["spec"]["runPolicy"] = {{"suspend", false}};
  cluster_.Put("tfjobs", job);
  Reconcile();
  EXPECT_TRUE(Is("Suspended", "False"));
  EXPECT_EQ(Cond("Suspended")["reason"], "TFJobResumed");
  EXPECT_NE(Job()["status"]["startTime"], started);
  EXPECT_EQ(cluster_.Names("pods").size(), 2u);
}

TEST_F(JobReconcilerTest, ScalingDownDeletesHighIndicesAndScalingUpCreatesMissingOnes) {
  Submit(TfJob(Workers(4)));
  Reconcile();
  Object job = Job();
  job["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = 2;
  cluster_.Put("tfjobs", job);
  Reconcile();
  EXPECT_THAT(cluster_.Names("pods"), UnorderedElementsAre("job-worker-0", "job-worker-1"));
  EXPECT_THAT(cluster_.Names("services"), UnorderedElementsAre("job-worker-0", "job-worker-1"));
  job = Job();
  job["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = 3;
  cluster_.Put("tfjobs", job);
  Reconcile();
  EXPECT_THAT(cluster_.Names("pods"),
              UnorderedElementsAre("job-worker-0", "job-worker-1", "job-worker-2"));
}

TEST_F(JobReconcilerTest, PodsOfAnotherControllerAreLeftAloneAndOrphansAdopted) {
  Object orphan = {{"metadata",
                    {{"name", "job-worker-0"}, {"namespace", "ns"}, {"uid", "orphan"},
                     {"labels", {{"training.kubeflow.org/operator-name", "tfjob-controller"},
                                 {"training.kubeflow.org/job-name", "job"},
                                 {"training.kubeflow.org/replica-type", "worker"},
                                 {"training.kubeflow.org/replica-index", "0"}}}}}};
  Object foreign = orphan;
  foreign["metadata"]["name"] = "job-worker-1";
  foreign["metadata"]["uid"] = "foreign";
  foreign["metadata"]["labels"]["training.kubeflow.org/replica-index"] = "1";
  foreign["metadata"]["ownerReferences"] = Object::array(
      {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "rs"}, {"uid", "rs-uid"},
        {"controller", true}}});
  cluster_.Put("pods", orphan);
  cluster_.Put("pods", foreign);
  Submit(TfJob(Workers(1)));
  Reconcile();
  EXPECT_EQ(cluster_.Stored("pods", "job-worker-0")->at("metadata")["ownerReferences"][0]["uid"],
            "job-uid");
  EXPECT_EQ(cluster_.Stored("pods", "job-worker-1")->at("metadata")["ownerReferences"][0]["uid"],
            "rs-uid");
  EXPECT_EQ(cluster_.CountCreates("pods/"), 0u);
}

TEST_F(JobReconcilerTest, AKindWithoutOwnedObjectsNeverListsTheApiServer) {
  // TFJob's plug-in owns nothing besides pods and services: its passes cost no extra request.
  ASSERT_THAT(FrameworkFor(api::JobKind::kTFJob).OwnedResources(), IsEmpty());
  Submit(TfJob(Workers(2)));
  Reconcile();
  AllPods("Running");
  Reconcile();
  Object job = Job();
  job["spec"]["runPolicy"] = {{"suspend", true}};
  cluster_.Put("tfjobs", job);
  Reconcile();
  ASSERT_TRUE(Is("Suspended"));
  EXPECT_EQ(cluster_.lists(), 0);
}

TEST_F(JobReconcilerTest, StatusIsWrittenOnlyWhenItChanged) {
  Submit(TfJob(Workers(1)));
  Reconcile();
  AllPods("Running");
  Reconcile();
  const int writes = cluster_.status_writes();
  Reconcile();
  Reconcile();
  EXPECT_EQ(cluster_.status_writes(), writes);
}

TEST_F(JobReconcilerTest, EditsAfterTheCacheSawTheJobCostNoStatusConflict) {
  Submit(TfJob(Workers(1)));
  cluster_.Sync();
  // Someone edits the job after the cache saw it, twice: the cached resourceVersion is stale.
  Object job = Job();
  job["metadata"]["labels"] = {{"edited", "yes"}};
  cluster_.Put("tfjobs", job);
  cluster_.Put("tfjobs", Job());
  kube::ReconcileResult result = reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", "job"));
  EXPECT_FALSE(result.error);
  EXPECT_EQ(cluster_.status_writes(), 1) << "the status write carries no resourceVersion";
  EXPECT_TRUE(Is("Created"));
  EXPECT_EQ(Job()["metadata"]["labels"]["edited"], "yes");
}

TEST_F(JobReconcilerTest, GangErrorsCreateNoPodAndRequeueWithAnEventAndMessage) {
  ScriptedGang gang;
  gang.ensure_error = absl::UnavailableError("gang service at 127.0.0.1:1 is unreachable");
  gang_ = &gang;
  Submit(TfJob(Workers(2)));
  kube::ReconcileResult result = Reconcile();
  EXPECT_TRUE(result.requeue);
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  EXPECT_EQ(events_.TypeOf("GangSchedulingFailed"), "Warning");
  EXPECT_THAT(Cond("Created")["message"].get<std::string>(), HasSubstr("unreachable"));
}

TEST_F(JobReconcilerTest, APendingGangHoldsPodsBackUntilAdmitted) {
  ScriptedGang gang;
  gang.admission = GangAdmission::kPending;
  gang_ = &gang;
  Submit(TfJob(Workers(2)));
  EXPECT_GT(Reconcile().requeue_after, absl::ZeroDuration());
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  gang.admission = GangAdmission::kAdmitted;
  Reconcile();
  Object pod = *cluster_.Stored("pods", "job-worker-1");
  EXPECT_EQ(pod["metadata"]["labels"]["gang-label"], "job");
  EXPECT_EQ(pod["metadata"]["annotations"]["gang-annotation"], "Worker-1");
  EXPECT_EQ(pod["spec"]["schedulerName"], "gang-scheduler");
}

TEST_F(JobReconcilerTest, TheGangIsDeletedWhenTheJobFinishesOrIsSuspended) {
  ScriptedGang gang;
  gang_ = &gang;
  Submit(TfJob(Workers(1)));
  Reconcile();
  Reconcile();  // the informer shows the pod (what clears its create expectation)
  EXPECT_EQ(gang.deletes, 0);
  Object job = Job();
  job["spec"]["runPolicy"] = {{"suspend", true}};
  cluster_.Put("tfjobs", job);
  Reconcile();
  EXPECT_EQ(gang.deletes, 1);
  job = Job();
  job["spec"]["runPolicy"] = {{"suspend", false}};
  cluster_.Put("tfjobs", job);
  Reconcile();
  cluster_.SetPodPhase("job-worker-0", "Succeeded");
  Reconcile();
  EXPECT_TRUE(Is("Succeeded"));
  EXPECT_EQ(gang.deletes, 2);
}

// --- Jobs the webhook would refuse (created while it was down) and jobs that hit a bug ---

TEST_F(JobReconcilerTest, AnUnknownReplicaTypeFailsWithFailedValidationAndCreatesNothing) {
  Submit(TfJob({{"Foo", {{"replicas", 1}, {"template", Template()}}}}));
  EXPECT_FALSE(Reconcile().error);
  EXPECT_TRUE(Is("Failed"));
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobFailedValidation");
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(),
              HasSubstr("spec.tfReplicaSpecs[Foo]: Unsupported value: \"Foo\""));
  EXPECT_TRUE(Is("Created"));
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  EXPECT_THAT(cluster_.Names("services"), IsEmpty());
  EXPECT_EQ(events_.Count("TFJobFailedValidation"), 1u);
  EXPECT_EQ(events_.TypeOf("TFJobFailedValidation"), "Warning");
}

TEST_F(JobReconcilerTest, AnInvalidJobIsRefusedOnceAndNotRetried) {
  Submit(TfJob(Object::object()));
  kube::ReconcileResult first = Reconcile();
  EXPECT_FALSE(first.error);
  EXPECT_FALSE(first.requeue);
  EXPECT_EQ(first.requeue_after, absl::ZeroDuration());
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(), HasSubstr("spec.tfReplicaSpecs: Required value"));
  const int writes = cluster_.status_writes();
  kube::ReconcileResult again = Reconcile();
  EXPECT_FALSE(again.error || again.requeue || again.requeue_after > absl::ZeroDuration());
  EXPECT_EQ(cluster_.status_writes(), writes);
  EXPECT_EQ(events_.Count("TFJobFailedValidation"), 1u);
}

TEST_F(JobReconcilerTest, NegativeReplicasFailWithFailedValidation) {
  Submit(TfJob(Workers(-1)));
  Reconcile();
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobFailedValidation");
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(),
              HasSubstr("spec.tfReplicaSpecs[Worker].replicas: Invalid value: -1"));
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
}

TEST_F(JobReconcilerTest, ReplicasAboveTheLimitsFailWithoutPlanningAnyPod) {
  Submit(TfJob(Workers(2147483647)));
  Reconcile();
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobFailedValidation");
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(),
              HasSubstr("spec.tfReplicaSpecs[Worker].replicas: Invalid value: 2147483647: must be "
                        "less than or equal to 5000"));
  EXPECT_EQ(cluster_.CountCreates(""), 0u);

  // Per job: two types within the per-type limit that add up to more than the per-job limit.
  ASSERT_TRUE(cluster_.Delete(kube::ResourceRef{"kubeflow.org", "v1", "tfjobs", true}, "ns", "job", {}).ok());
  Object replicas = Workers(4000);
  replicas["PS"] = {{"replicas", 4000}, {"template", Template()}};
  replicas["Evaluator"] = {{"replicas", 3000}, {"template", Template()}};
  Submit(TfJob(replicas));
  Reconcile();
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(),
              HasSubstr("spec.tfReplicaSpecs: Invalid value: 11000: the replicas of all types add "
                        "up to more than the maximum of 10000 per job"));
  EXPECT_EQ(cluster_.CountCreates(""), 0u);
}

TEST_F(JobReconcilerTest, TheReplicaLimitsAreFlags) {
  ReconcilerDeps deps = DefaultDeps();
  deps.validation.max_replicas_per_type = 2;
  UseDeps(std::move(deps));
  Submit(TfJob(Workers(3)));
  Reconcile();
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(),
              HasSubstr("spec.tfReplicaSpecs[Worker].replicas: Invalid value: 3: must be less than "
                        "or equal to 2"));
}

TEST_F(JobReconcilerTest, AJobNameThatMakesAServiceNameTooLongFailsBeforeAnythingIsCreated) {
  Object job = TfJob(Workers(10));
  const std::string name(58, 'a');  // "<58>-worker-9" is 67 characters
  job["metadata"]["name"] = name;
  cluster_.Put("tfjobs", job);
  cluster_.Sync();
  reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", name));
  Object stored = *cluster_.Stored("tfjobs", name);
  std::string message;
  for (const Object& c : stored["status"]["conditions"]) {
    if (c["type"] == "Failed") {
      EXPECT_EQ(c["reason"], "TFJobFailedValidation");
      message = c["message"];
    }
  }
  EXPECT_THAT(message, HasSubstr("metadata.name: Invalid value: \"" + name +
                                 "\": must be no more than 54 characters"));
  EXPECT_EQ(cluster_.CountCreates(""), 0u);
}

TEST_F(JobReconcilerTest, NegativeTtlAndDeadlineFailWithFailedValidationAndTheJobIsKept) {
  Submit(TfJob(Workers(1), {{"ttlSecondsAfterFinished", -1}, {"activeDeadlineSeconds", -5}}));
  Reconcile();
  clock_.Advance(absl::Minutes(5));
  Reconcile();
  ASSERT_TRUE(cluster_.Stored("tfjobs", "job").has_value());
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobFailedValidation");
  const std::string message = Cond("Failed")["message"];
  EXPECT_THAT(message, HasSubstr("spec.runPolicy.ttlSecondsAfterFinished: Invalid value: -1"));
  EXPECT_THAT(message, HasSubstr("spec.runPolicy.activeDeadlineSeconds: Invalid value: -5"));
  EXPECT_THAT(cluster_.deletes(), IsEmpty());
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
}

TEST_F(JobReconcilerTest, ATemplateOfWrongTypesIsReadWithoutThrowing) {
  // Whatever the schema check lets through, reading ports never throws: a string port is
  // skipped for the service (the default port is used).
  Object tmpl = Template();
  tmpl["spec"]["containers"][0]["ports"] = {{{"name", "tfjob-port"}, {"containerPort", "2222"}}};
  Submit(TfJob(Workers(1, "Never", tmpl)));
  kube::ReconcileResult result = Reconcile();
  EXPECT_TRUE(Is("Failed") || !cluster_.Names("services").empty());
  (void)result;
}

TEST_F(JobReconcilerTest, AReconcileThatThrowsBecomesAWarningAndABackoffNotACrash) {
  cluster_.before_create = [](const std::string&) { throw std::runtime_error("boom"); };
  Submit(TfJob(Workers(2)));
  kube::ReconcileResult result = Reconcile();
  EXPECT_TRUE(result.error);
  EXPECT_GE(events_.Count("FailedCreatePod"), 1u);
  cluster_.before_create = nullptr;
  Reconcile();
  EXPECT_THAT(cluster_.Names("pods"), UnorderedElementsAre("job-worker-0", "job-worker-1"));
}

TEST_F(JobReconcilerTest, AnExceptionInThePassIsCaughtByTheBarrier) {
  int unexpected = 0;
  ReconcilerDeps deps = DefaultDeps();
  deps.pod_schema = []() -> std::shared_ptr<const api::PodSchema> {
    throw std::runtime_error("schema source broke");
  };
  deps.on_unexpected_error = [&](const std::string&) { ++unexpected; };
  UseDeps(std::move(deps));
  Submit(TfJob(Workers(1)));
  kube::ReconcileResult result = Reconcile();
  EXPECT_TRUE(result.error);
  EXPECT_EQ(unexpected, 1);
  EXPECT_EQ(events_.Count("ReconcileError"), 1u);
  EXPECT_EQ(events_.TypeOf("ReconcileError"), "Warning");
}

TEST_F(JobReconcilerTest, ADeletedJobsPassStopsCreatingBetweenBatches) {
  Submit(TfJob(Workers(40)));
  cluster_.Sync();
  std::atomic<int> creates = 0;
  cluster_.before_create = [&](const std::string&) {
    if (++creates == 3) cluster_.jobs.objects_.clear();  // the informer sees the deletion
  };
  reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", "job"));
  // Batches of 1 and 2 ran; the deletion was seen before the batch of 4.
  EXPECT_EQ(creates.load(), 3);
}

TEST_F(JobReconcilerTest, AStoppingProcessStopsThePassBetweenBatchesAndRequeues) {
  absl::Notification stopping;
  ReconcilerDeps deps = DefaultDeps();
  deps.stopping = &stopping;
  UseDeps(std::move(deps));
  Submit(TfJob(Workers(40)));
  std::atomic<int> creates = 0;
  cluster_.before_create = [&](const std::string&) {
    if (++creates == 1) stopping.Notify();
  };
  kube::ReconcileResult result = Reconcile();
  EXPECT_EQ(creates.load(), 1);
  EXPECT_GT(result.requeue_after, absl::ZeroDuration());
}

TEST_F(JobReconcilerTest, APodTheApiServerRefusesAsInvalidFailsTheJobWithFailedValidation) {
  cluster_.RefuseCreates("pods", kube::MakeApiError(422, "Invalid",
                                                    "Pod \"job-worker-0\" is invalid: "
                                                    "spec.containers[0].name: Invalid value: "
                                                    "\"Side_Car\""));
  Submit(TfJob(Workers(3)));
  kube::ReconcileResult result = Reconcile();
  EXPECT_FALSE(result.error);
  EXPECT_TRUE(Is("Failed"));
  EXPECT_EQ(Cond("Failed")["reason"], "TFJobFailedValidation");
  EXPECT_THAT(Cond("Failed")["message"].get<std::string>(),
              HasSubstr("TFJob ns/job is invalid: the API server refused its pod job-worker-0: "
                        "Pod \"job-worker-0\" is invalid: spec.containers[0].name"));
  EXPECT_EQ(cluster_.CountCreates("pods/"), 1u);  // the first batch; nothing after it
  EXPECT_EQ(events_.TypeOf("TFJobFailedValidation"), "Warning");
  Reconcile();
  EXPECT_EQ(cluster_.CountCreates("pods/"), 1u);  // never retried
}

// How many creates run at once: slow-start batches of at most 32, and fewer for a job whose
// pods are large (a pass holds only the batch it is about to send).
class CreateConcurrency {
 public:
  std::function<void(const std::string&)> Hook() {
    return [this](const std::string&) {
      const int now = ++in_flight_;
      int seen = most_.load();
      while (now > seen && !most_.compare_exchange_weak(seen, now)) {
      }
      absl::SleepFor(absl::Milliseconds(5));
      --in_flight_;
    };
  }
  int most() const { return most_.load(); }

 private:
  std::atomic<int> in_flight_ = 0, most_ = 0;
};

TEST_F(JobReconcilerTest, CreatesRunInBatchesOfAtMost32AndFewerWhenPodsAreLarge) {
  ThreadPoolParallelRunner wide(64);
  ReconcilerDeps deps = DefaultDeps();
  deps.create_runner = &wide;
  UseDeps(std::move(deps));
  CreateConcurrency small;
  cluster_.before_create = small.Hook();
  Submit(TfJob(Workers(100)));
  Reconcile();
  EXPECT_EQ(cluster_.Names("pods").size(), 100u);
  EXPECT_GT(small.most(), 4);
  EXPECT_LE(small.most(), 32);

  ASSERT_TRUE(cluster_.Delete(kube::ResourceRef{"kubeflow.org", "v1", "tfjobs", true}, "ns", "job", {}).ok());
  Object tmpl = Template();
  tmpl["metadata"]["annotations"]["big"] = std::string(1'200'000, 'x');
  Object job = TfJob(Workers(12, "Never", tmpl));
  job["metadata"]["name"] = "big";
  job["metadata"]["uid"] = "big-uid";
  cluster_.Put("tfjobs", job);
  CreateConcurrency large;
  cluster_.before_create = large.Hook();
  cluster_.Sync();
  reconciler().Reconcile(JobKey(api::JobKind::kTFJob, "ns", "big"));
  EXPECT_EQ(cluster_.CountCreates("pods/big-"), 12u);
  EXPECT_LE(large.most(), 3);  // 4 MiB of planned objects / 1.2 MB a pod
}

}  // namespace
}  // namespace kubedl::reconciler::testing
