// An MPIJob through the whole pass (core + the MPI plug-in) on the in-memory cluster: its extra
// objects before its pods, a launcher without index, no Services, the ConfigMap and Role
// following a scale, and the launcher deciding the end (SPEC §10).
#include <memory>
#include <string>

#include "core/job_reconciler.h"
#include "core/pod_identity.h"
#include "core/thread_pool_parallel_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Object MpiJob(int workers, const std::string& policy = "Never") {
  const std::string container = R"({"name":"mpi","image":"img"})";
  return Object::parse(
      R"({"apiVersion":"kubeflow.org/v1","kind":"MPIJob","metadata":{"name":"job","namespace":"ns",)"
      R"("uid":"job-uid"},"spec":{"mpiReplicaSpecs":{"Launcher":{"replicas":1,"restartPolicy":")" +
      policy + R"(","template":{"spec":{"containers":[)" + container +
      R"(]}}},"Worker":{"replicas":)" + std::to_string(workers) +
      R"(,"template":{"spec":{"containers":[)" + container + "]}}}}}}");
}

class MpiJobPassTest : public ::testing::Test {
 protected:
  MpiJobPassTest() : expectations_(clock_) {
    cluster_.jobs_resource = "mpijobs";
    ReconcilerDeps deps;
    deps.client = &cluster_;
    deps.jobs = [this](api::JobKind) -> const kube::ObjectCache* { return &cluster_.jobs; };
    deps.pods = &cluster_.pods;
    deps.services = &cluster_.services;
    deps.events = &events_;
    deps.expectations = &expectations_;
    deps.clock = &clock_;
    deps.create_runner = &create_runner_;
    reconciler_ = std::make_unique<JobReconciler>(std::move(deps));
  }

  void Reconcile() {
    cluster_.Sync();
    reconciler_->Reconcile(JobKey(api::JobKind::kMPIJob, "ns", "job"));
  }
  Object Condition(const std::string& type) {
    const Object job = *cluster_.Stored("mpijobs", "job");
    for (const Object& c : job["status"].value("conditions", Object::array())) {
      if (c.value("type", "") == type) return c;
    }
    return nullptr;
  }
  std::string Hostfile() {
    return cluster_.Stored("configmaps", "job-config")->at("data").at("hostfile");
  }

  FakeCluster cluster_;
  RecordingEvents events_;
  SettableClock clock_;
  Expectations expectations_;
  ThreadPoolParallelRunner create_runner_{2};
  std::unique_ptr<JobReconciler> reconciler_;
};

TEST_F(MpiJobPassTest, ExtraObjectsLauncherAndWorkersAreCreatedWithoutServices) {
  cluster_.Put("mpijobs", MpiJob(2));
  Reconcile();
  EXPECT_THAT(cluster_.Names("pods"),
              UnorderedElementsAre("job-launcher", "job-worker-0", "job-worker-1"));
  EXPECT_THAT(cluster_.Names("services"), IsEmpty());
  EXPECT_THAT(cluster_.Names("serviceaccounts"), UnorderedElementsAre("job-launcher"));
  EXPECT_THAT(cluster_.Names("roles"), UnorderedElementsAre("job-launcher"));
  EXPECT_THAT(cluster_.Names("rolebindings"), UnorderedElementsAre("job-launcher"));
  EXPECT_EQ(Hostfile(), "job-worker-0 slots=1\njob-worker-1 slots=1\n");
  const Object launcher = *cluster_.Stored("pods", "job-launcher");
  ExpectLabels(launcher["metadata"]["labels"],
               {{"training.kubeflow.org/operator-name", "mpijob-controller"},
                {"training.kubeflow.org/replica-type", "launcher"},
                {"training.kubeflow.org/replica-index", "0"},
                {"training.kubeflow.org/job-role", "master"}});
  EXPECT_EQ(launcher["spec"]["serviceAccountName"], "job-launcher");
  EXPECT_EQ(cluster_.Stored("configmaps", "job-config")->at("metadata").at("labels").at("app"),
            "job");
}

TEST_F(MpiJobPassTest, RunningOnlyOnceEveryWorkerRunsAndDiscoverHostsFollows) {
  cluster_.Put("mpijobs", MpiJob(2));
  Reconcile();
  cluster_.SetPodPhase("job-launcher", "Running");
  cluster_.SetPodPhase("job-worker-0", "Running");
  Reconcile();
  EXPECT_TRUE(Condition("Running").is_null());
  EXPECT_EQ(cluster_.Stored("configmaps", "job-config")->at("data").at("discover_hosts.sh"),
            "#!/bin/sh\necho job-worker-0:1");
  cluster_.SetPodPhase("job-worker-1", "Running");
  Reconcile();
  EXPECT_EQ(Condition("Running").value("reason", ""), "MPIJobRunning");
}

TEST_F(MpiJobPassTest, AScaleFromTwoToThreeRewritesTheHostfileAndTheRole) {
  cluster_.Put("mpijobs", MpiJob(2));
  Reconcile();
  Object job = *cluster_.Stored("mpijobs", "job");
  job["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"] = 3;
  cluster_.Put("mpijobs", job);
  Reconcile();
  EXPECT_EQ(Hostfile(), "job-worker-0 slots=1\njob-worker-1 slots=1\njob-worker-2 slots=1\n");
  EXPECT_EQ(cluster_.Stored("roles", "job-launcher")->at("rules")[1]["resourceNames"],
            Object({"job-worker-0", "job-worker-1", "job-worker-2"}));
  EXPECT_TRUE(cluster_.Stored("pods", "job-worker-2").has_value());
}

TEST_F(MpiJobPassTest, TheLauncherSucceedingSucceedsTheJobWhateverTheWorkersDo) {
  cluster_.Put("mpijobs", MpiJob(2));
  Reconcile();
  cluster_.SetPodPhase("job-worker-0", "Running");
  cluster_.SetPodPhase("job-launcher", "Succeeded");
  Reconcile();
  EXPECT_EQ(Condition("Succeeded").value("reason", ""), "MPIJobSucceeded");
}

TEST_F(MpiJobPassTest, ALauncherExitingOneUnderNeverFailsTheJobAsMpiJobFailed) {
  cluster_.Put("mpijobs", MpiJob(2));
  Reconcile();
  cluster_.SetPodPhase("job-launcher", "Failed", 1);
  Reconcile();
  EXPECT_EQ(Condition("Failed").value("reason", ""), "MPIJobFailed");
  EXPECT_EQ(Condition("Failed").value("message", ""),
            "MPIJob ns/job has failed because 1 Launcher replica(s) failed.");
}

TEST_F(MpiJobPassTest, ALauncherKilledUnderExitCodeIsRecreatedAndTheJobRestarts) {
  cluster_.Put("mpijobs", MpiJob(2, "ExitCode"));
  Reconcile();
  cluster_.SetPodPhase("job-launcher", "Failed", 137);
  Reconcile();
  EXPECT_EQ(Condition("Restarting").value("status", ""), "True");
  EXPECT_EQ(events_.Count("SuccessfulDeletePod"), 1u);
}

// Decision 13.1: an MPIJob the webhook would refuse fails once with training-operator's reason,
// and gets no pods and no extra objects.
TEST_F(MpiJobPassTest, AnInvalidMpiJobFailsWithMpiJobFailedValidationAndGetsNothing) {
  Object job = MpiJob(2);
  job["spec"]["mpiReplicaSpecs"]["Launcher"]["replicas"] = 2;
  cluster_.Put("mpijobs", job);
  Reconcile();
  const Object failed = Condition("Failed");
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed.value("reason", ""), "MPIJobFailedValidation");
  EXPECT_NE(failed.value("message", "").find("spec.mpiReplicaSpecs[Launcher].replicas"),
            std::string::npos);
  EXPECT_EQ(events_.Count("MPIJobFailedValidation"), 1u);
  EXPECT_EQ(events_.TypeOf("MPIJobFailedValidation"), "Warning");
  EXPECT_THAT(cluster_.Names("pods"), IsEmpty());
  EXPECT_THAT(cluster_.Names("configmaps"), IsEmpty());
}

}  // namespace
}  // namespace kubedl::reconciler::testing
