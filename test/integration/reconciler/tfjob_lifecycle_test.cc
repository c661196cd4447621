// The real kubedl-reconciler against the local control plane, TFJob end to end: pods and
// headless services field by field, Running, Succeeded, ExitCode restarts, permanent failures,
// backoffLimit, activeDeadlineSeconds, TTL, cleanPodPolicy, suspend/resume and scaling.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/object.h"
#include "test/integration/reconciler/reconciler_fixture.h"

namespace kubedl::reconciler::testing {
namespace {

using kube::Object;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class TfJobLifecycleTest : public ReconcilerTest {};

std::string EnvValue(const Object& container, const std::string& name) {
  for (const Object& e : container.value("env", Object::array())) {
    if (e.value("name", "") == name) return e.value("value", "");
  }
  return "";
}

TEST_F(TfJobLifecycleTest, PsWorkerJobGetsItsPodsAndHeadlessServicesRunsAndSucceeds) {
  Object created = CreateJob(TfJob("mnist", {{"PS", Replica(1, "Never")},
                                             {"Worker", Replica(2, "Never")}}));
  const std::string uid = kube::Uid(created);
  ASSERT_TRUE(WaitForPods("mnist", {"mnist-ps-0", "mnist-worker-0", "mnist-worker-1"}, "Running"));

  const std::string svc_suffix = "." + ns() + ".svc:2222";
  const Object want_cluster = {
      {"ps", Object::array({"mnist-ps-0" + svc_suffix})},
      {"worker", Object::array({"mnist-worker-0" + svc_suffix, "mnist-worker-1" + svc_suffix})}};
  for (const Object& pod : Pods("mnist")) {
    const std::string name = kube::Name(pod);
    SCOPED_TRACE(name);
    const bool is_ps = name == "mnist-ps-0";
    const std::string type = is_ps ? "ps" : "worker";
    const std::string index = name.substr(name.size() - 1);
    const Object& labels = pod["metadata"]["labels"];
    EXPECT_EQ(labels.value("training.kubeflow.org/operator-name", ""), "tfjob-controller");
    EXPECT_EQ(labels.value("training.kubeflow.org/job-name", ""), "mnist");
    EXPECT_EQ(labels.value("training.kubeflow.org/replica-type", ""), type);
    EXPECT_EQ(labels.value("training.kubeflow.org/replica-index", ""), index);
    EXPECT_EQ(labels.value("group-name", ""), "kubeflow.org");
    EXPECT_EQ(labels.value("job-name", ""), "mnist");
    EXPECT_EQ(labels.value("replica-type", ""), type);
    EXPECT_EQ(labels.value("replica-index", ""), index);
    // No Chief/Master: worker 0 is the master.
    const bool master = name == "mnist-worker-0";
    EXPECT_EQ(labels.value("training.kubeflow.org/job-role", ""), master ? "master" : "");
    EXPECT_EQ(labels.value("job-role", ""), master ? "master" : "");

    const Object& refs = pod["metadata"]["ownerReferences"];
    ASSERT_EQ(refs.size(), 1u);
    EXPECT_EQ(refs[0].value("apiVersion", ""), "kubeflow.org/v1");
    EXPECT_EQ(refs[0].value("kind", ""), "TFJob");
    EXPECT_EQ(refs[0].value("name", ""), "mnist");
    EXPECT_EQ(refs[0].value("uid", ""), uid);
    EXPECT_TRUE(refs[0].value("controller", false));
    EXPECT_TRUE(refs[0].value("blockOwnerDeletion", false));

    EXPECT_EQ(pod["spec"].value("restartPolicy", ""), "Never");
    const Object& container = pod["spec"]["containers"][0];
    EXPECT_EQ(container.value("name", ""), "tensorflow");
    ASSERT_EQ(container["ports"].size(), 1u);
    EXPECT_EQ(container["ports"][0].value("name", ""), "tfjob-port");
    EXPECT_EQ(container["ports"][0].value("containerPort", 0), 2222);

    const Object tf_config = Object::parse(EnvValue(container, "TF_CONFIG"));
    EXPECT_EQ(tf_config["cluster"], want_cluster);
    EXPECT_EQ(tf_config["task"], Object({{"type", type}, {"index", std::stoi(index)}}));
    EXPECT_EQ(tf_config.value("environment", ""), "cloud");
  }

  ASSERT_TRUE(kubedl::testing::Eventually([&] { return Services("mnist").size() == 3; }));
  for (const Object& svc : Services("mnist")) {
    const std::string name = kube::Name(svc);
    SCOPED_TRACE(name);
    const std::string type = name == "mnist-ps-0" ? "ps" : "worker";
    EXPECT_EQ(svc["spec"].value("clusterIP", ""), "None");
    EXPECT_EQ(svc["spec"]["selector"],
              Object({{"training.kubeflow.org/operator-name", "tfjob-controller"},
                      {"training.kubeflow.org/job-name", "mnist"},
                      {"training.kubeflow.org/replica-type", type},
                      {"training.kubeflow.org/replica-index", name.substr(name.size() - 1)}}));
    ASSERT_EQ(svc["spec"]["ports"].size(), 1u);
    EXPECT_EQ(svc["spec"]["ports"][0].value("name", ""), "tfjob-port");
    EXPECT_EQ(svc["spec"]["ports"][0].value("port", 0), 2222);
    EXPECT_EQ(svc["metadata"]["ownerReferences"][0].value("uid", ""), uid);
    EXPECT_TRUE(svc["metadata"]["ownerReferences"][0].value("controller", false));
    EXPECT_EQ(svc["metadata"]["labels"].value("training.kubeflow.org/replica-type", ""), type);
  }

  Object job = WaitForCondition("mnist", "Running");
  EXPECT_TRUE(ConditionIs(job, "Created"));
  EXPECT_EQ(job["status"]["replicaStatuses"]["Worker"].value("active", 0), 2);
  EXPECT_EQ(job["status"]["replicaStatuses"]["PS"].value("active", 0), 1);
  EXPECT_TRUE(job["status"].contains("startTime"));

  ExitPod("mnist-worker-0", 0);
  job = WaitForCondition("mnist", "Succeeded");
  EXPECT_EQ(Condition(job, "Succeeded").value("reason", ""), "TFJobSucceeded");
  EXPECT_TRUE(ConditionIs(job, "Running", "False"));
  EXPECT_TRUE(job["status"].contains("completionTime"));
  // cleanPodPolicy defaults to None for TF: every pod stays.
  EXPECT_EQ(Names(Pods("mnist"), true).size(), 3u);
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    auto reasons = EventReasons(client(), ns(), "mnist");
    return std::ranges::count(reasons, "SuccessfulCreatePod") == 3 &&
           std::ranges::count(reasons, "SuccessfulCreateService") == 3 &&
           std::ranges::count(reasons, "TFJobSucceeded") == 1;
  }));
}

TEST_F(TfJobLifecycleTest, ExitCode137RecreatesThePodMarksRestartingThenRunsAgain) {
  CreateJob(TfJob("retry", {{"Worker", Replica(2, "ExitCode")}}));
  ASSERT_TRUE(WaitForPods("retry", {"retry-worker-0", "retry-worker-1"}, "Running"));
  WaitForCondition("retry", "Running");
  std::string old_uid;
  for (const Object& p : Pods("retry")) {
    if (kube::Name(p) == "retry-worker-1") old_uid = kube::Uid(p);
  }
  ExitPod("retry-worker-1", 137);
  // Restarting lasts until the new pod runs (Running then replaces it): its event stays.
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    auto reasons = EventReasons(client(), ns(), "retry");
    return std::ranges::count(reasons, "TFJobRestarting") == 1 &&
           std::ranges::count(reasons, "ExitedWithCode") == 1 &&
           std::ranges::count(reasons, "SuccessfulDeletePod") == 1;
  }));
  // A new pod under the same name, Running again, and the job Running again.
  ASSERT_TRUE(kubedl::testing::Eventually([&] {
    for (const Object& p : Pods("retry")) {
      if (kube::Name(p) == "retry-worker-1" && kube::Uid(p) != old_uid &&
          p.value("status", Object::object()).value("phase", "") == "Running") {
        return true;
      }
    }
    return false;
  }));
  Object job = WaitForCondition("retry", "Running");
  EXPECT_TRUE(Condition(job, "Restarting").is_null()) << "Running replaces Restarting";
  EXPECT_TRUE(Condition(job, "Failed").is_null());
  EXPECT_EQ(job["metadata"]["annotations"].value("kubedl.io/recreations", ""), "1");
  EXPECT_EQ(Names(Pods("retry"), true), (std::set<std::string>{"retry-worker-0", "retry-worker-1"}));
  // ExitCode maps to Never in the pod, with a Warning only when the template said otherwise.
  for (const Object& p : Pods("retry")) EXPECT_EQ(p["spec"].value("restartPolicy", ""), "Never");
}

TEST_F(TfJobLifecycleTest, ExitCode1UnderExitCodePolicyFailsTheJobWithItsMessage) {
  CreateJob(TfJob("broken", {{"Worker", Replica(2, "ExitCode")}}));
  ASSERT_TRUE(WaitForPods("broken", {"broken-worker-0", "broken-worker-1"}, "Running"));
  ExitPod("broken-worker-1", 1);
  Object job = WaitForCondition("broken", "Failed");
  EXPECT_EQ(Condition(job, "Failed").value("reason", ""), "TFJobFailed");
  EXPECT_EQ(Condition(job, "Failed").value("message", ""),
            "TFJob " + ns() + "/broken has failed because 1 Worker replica(s) failed.");
  // Running turns False if the job got to write it before the failure; it is never left True.
  EXPECT_FALSE(ConditionIs(job, "Running", "True"));
  EXPECT_TRUE(job["status"].contains("completionTime"));
  EXPECT_EQ(job["status"]["replicaStatuses"]["Worker"].value("failed", 0), 1);
}

TEST_F(TfJobLifecycleTest, BackoffLimitCountsRecreationsAndFailsTheJob) {
  // Every pod dies with 137 a moment after it runs: recreated until the limit is passed.
  CreateJob(TfJob("flaky", {{"Worker", Replica(1, "ExitCode", TfTemplate(137, "500ms"))}},
                  {{"backoffLimit", 2}}));
  Object job = WaitForCondition("flaky", "Failed", "True", absl::Seconds(90));
  EXPECT_EQ(Condition(job, "Failed").value("reason", ""), "TFJobBackoffLimitExceeded");
  EXPECT_THAT(Condition(job, "Failed").value("message", ""), HasSubstr("backoff limit (2)"));
  EXPECT_EQ(job["metadata"]["annotations"].value("kubedl.io/recreations", ""), "3");
}

TEST_F(TfJobLifecycleTest, ActiveDeadlineFailsARunningJobWithNothingElseHappening) {
  // The pod runs and nothing changes after that: only the timed requeue can fail the job.
  CreateJob(TfJob("slow", {{"Worker", Replica(1, "Never")}}, {{"activeDeadlineSeconds", 5}}));
  Object job = WaitForCondition("slow", "Failed", "True", absl::Seconds(40));
  EXPECT_EQ(Condition(job, "Failed").value("reason", ""), "TFJobDeadlineExceeded");
  EXPECT_THAT(Condition(job, "Failed").value("message", ""), HasSubstr("active deadline of 5"));
  EXPECT_FALSE(Condition(job, "Running").is_null()) << "the job ran before its deadline";
  EXPECT_EQ(Names(Pods("slow"), true), std::set<std::string>{"slow-worker-0"});
}

TEST_F(TfJobLifecycleTest, TtlAfterFinishedDeletesTheJobAndItsPods) {
  CreateJob(TfJob("short", {{"Worker", Replica(1, "Never", TfTemplate(0, "500ms"))}},
                  {{"ttlSecondsAfterFinished", 2}}));
  WaitForCondition("short", "Succeeded");
  EXPECT_TRUE(kubedl::testing::Eventually(
      [&] { return !client().Get(kTfJobs, ns(), "short").ok(); }, absl::Seconds(30)));
  // The garbage collector follows the owner references.
  EXPECT_TRUE(kubedl::testing::Eventually(
      [&] { return Names(Pods("short"), true).empty() && Services("short").empty(); },
      absl::Seconds(60)));
}

TEST_F(TfJobLifecycleTest, CleanPodPolicyRunningDeletesOnlyUnfinishedPods) {
  CreateJob(TfJob("clean-running", {{"PS", Replica(1, "Never")}, {"Worker", Replica(1, "Never")}},
                  {{"cleanPodPolicy", "Running"}}));
  ASSERT_TRUE(WaitForPods("clean-running", {"clean-running-ps-0", "clean-running-worker-0"},
                          "Running"));
  ExitPod("clean-running-worker-0", 0);
  WaitForCondition("clean-running", "Succeeded");
  // The running PS goes with its service; the succeeded worker stays.
  EXPECT_TRUE(WaitForPods("clean-running", {"clean-running-worker-0"}));
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    return Names(Services("clean-running")) == std::set<std::string>{"clean-running-worker-0"};
  }));
}

TEST_F(TfJobLifecycleTest, CleanPodPolicyAllDeletesEveryPodAndService) {
  CreateJob(TfJob("clean-all", {{"PS", Replica(1, "Never")}, {"Worker", Replica(1, "Never")}},
                  {{"cleanPodPolicy", "All"}}));
  ASSERT_TRUE(WaitForPods("clean-all", {"clean-all-ps-0", "clean-all-worker-0"}, "Running"));
  ExitPod("clean-all-worker-0", 0);
  WaitForCondition("clean-all", "Succeeded");
  EXPECT_TRUE(WaitForPods("clean-all", {}));
  EXPECT_TRUE(kubedl::testing::Eventually([&] { return Services("clean-all").empty(); }));
}

TEST_F(TfJobLifecycleTest, SuspendDeletesPodsAndResumeBringsThemBack) {
  CreateJob(TfJob("pause", {{"Worker", Replica(2, "Never")}}));
  ASSERT_TRUE(WaitForPods("pause", {"pause-worker-0", "pause-worker-1"}, "Running"));
  WaitForCondition("pause", "Running");

  PatchJobSpec("pause", {{"runPolicy", {{"suspend", true}}}});
  Object job = WaitForCondition("pause", "Suspended");
  EXPECT_EQ(Condition(job, "Suspended").value("reason", ""), "TFJobSuspended");
  EXPECT_TRUE(ConditionIs(job, "Running", "False"));
  EXPECT_TRUE(WaitForPods("pause", {}));
  EXPECT_TRUE(kubedl::testing::Eventually([&] { return Services("pause").empty(); }));
  const std::string suspended_start = job["status"].value("startTime", "");

  absl::SleepFor(absl::Seconds(1));  // startTime has a one-second resolution
  PatchJobSpec("pause", {{"runPolicy", {{"suspend", false}}}});
  job = WaitForCondition("pause", "Suspended", "False");
  EXPECT_EQ(Condition(job, "Suspended").value("reason", ""), "TFJobResumed");
  ASSERT_TRUE(WaitForPods("pause", {"pause-worker-0", "pause-worker-1"}, "Running"));
  job = WaitForCondition("pause", "Running");
  EXPECT_NE(job["status"].value("startTime", ""), suspended_start);
  EXPECT_THAT(EventReasons(client(), ns(), "pause"), Contains("TFJobResumed"));
}

TEST_F(TfJobLifecycleTest, ScalingWorkersDownAndUpDeletesAndCreatesTheRightIndices) {
  CreateJob(TfJob("elastic", {{"Worker", Replica(4, "Never")}}));
  ASSERT_TRUE(WaitForPods("elastic", {"elastic-worker-0", "elastic-worker-1", "elastic-worker-2",
                                      "elastic-worker-3"},
                          "Running"));
  PatchJobSpec("elastic", {{"tfReplicaSpecs", {{"Worker", {{"replicas", 2}}}}}});
  ASSERT_TRUE(WaitForPods("elastic", {"elastic-worker-0", "elastic-worker-1"}));
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    return Names(Services("elastic")) ==
           std::set<std::string>{"elastic-worker-0", "elastic-worker-1"};
  }));
  PatchJobSpec("elastic", {{"tfReplicaSpecs", {{"Worker", {{"replicas", 3}}}}}});
  ASSERT_TRUE(WaitForPods("elastic", {"elastic-worker-0", "elastic-worker-1", "elastic-worker-2"},
                          "Running"));
  EXPECT_TRUE(kubedl::testing::Eventually([&] { return Services("elastic").size() == 3; }));
  Object job = WaitForCondition("elastic", "Running");
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    return GetJob("elastic")["status"]["replicaStatuses"]["Worker"].value("active", 0) == 3;
  }));
  EXPECT_THAT(Condition(job, "Failed"), ::testing::IsNull());
}

TEST_F(TfJobLifecycleTest, AnOrphanPodWithTheJobsLabelsIsAdopted) {
  // Created before the job, as a reconciler that died between the create and the owner write
  // would leave it: same name and labels, no controller.
  Object pod = kubedl::testing::MakePod(
      "adopt-worker-0", {{"training.kubeflow.org/operator-name", "tfjob-controller"},
                         {"training.kubeflow.org/job-name", "adopt"},
                         {"training.kubeflow.org/replica-type", "worker"},
                         {"training.kubeflow.org/replica-index", "0"}});
  ASSERT_TRUE(client().Create(kube::resources::Pods(), ns(), pod).ok());
  Object job = CreateJob(TfJob("adopt", {{"Worker", Replica(1, "Never")}}));
  ASSERT_TRUE(kubedl::testing::Eventually([&] {
    for (const Object& p : Pods("adopt")) {
      for (const Object& ref : p["metadata"].value("ownerReferences", Object::array())) {
        if (ref.value("uid", "") == kube::Uid(job) && ref.value("controller", false)) return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(Names(Pods("adopt"), true), std::set<std::string>{"adopt-worker-0"});
  EXPECT_THAT(EventReasons(client(), ns(), "adopt"), Not(Contains("SuccessfulCreatePod")));
}

}  // namespace
}  // namespace kubedl::reconciler::testing
