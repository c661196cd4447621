// Gang scheduling end to end: the real kubedl-reconciler with --gang-scheduler-address, a real
// gang backend process (kubedl-gang-scheduler or the example Python backend), real jobs, pods
// on KWOK nodes, PodGroups in the API server.
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"
#include "kubedl/testing/cluster.h"
#include "kubedl/testing/service_process.h"
#include "test/integration/gang/gang_scheduler_process.h"

namespace kubedl::gang {
namespace {

using kube::Object;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

const kube::ResourceRef kTfJobs{"kubeflow.org", "v1", "tfjobs", true};
const kube::ResourceRef kPyTorchJobs{"kubeflow.org", "v1", "pytorchjobs", true};
const kube::ResourceRef kVolcano{"scheduling.volcano.sh", "v1beta1", "podgroups", true};
const kube::ResourceRef kSchedulerPlugins{"scheduling.x-k8s.io", "v1alpha1", "podgroups", true};
const kube::ResourceRef kKubeBatch{"scheduling.incubator.k8s.io", "v1alpha1", "podgroups", true};

// A process whose output goes to a log file of its own.
std::unique_ptr<kubedl::testing::ServiceProcess> LoggedProcess() {
  return std::make_unique<kubedl::testing::ServiceProcess>(
      ::testing::TempDir() + kubedl::testing::RandomName("process") + ".log");
}

std::string Env(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

// A pod template whose pods finish on KWOK nodes with `exit_code` after `run_for`
// (tools/controlplane/kwok-stages.yaml); exit_code < 0: they run until deleted.
Object Template(const std::string& container, int exit_code, const std::string& run_for) {
  Object metadata = Object::object();
  if (exit_code >= 0) {
    metadata["annotations"] = {{"kwok.kubedl.io/exit-code", std::to_string(exit_code)},
                               {"kwok.kubedl.io/run-for", run_for}};
  }
  return {{"metadata", metadata},
          {"spec", {{"containers", Object::array({{{"name", container}, {"image", "busybox"}}})}}}};
}

Object TfJob(const std::string& name, int workers, int exit_code, const std::string& run_for,
             int min_available = 0) {
  Object spec = {{"tfReplicaSpecs",
                  {{"Worker", {{"replicas", workers},
                               {"template", Template("tensorflow", exit_code, run_for)}}}}}};
  if (min_available > 0) {
    spec["runPolicy"] = {{"schedulingPolicy", {{"minAvailable", min_available}}}};
  }
  return {{"apiVersion", "kubeflow.org/v1"}, {"kind", "TFJob"},
          {"metadata", {{"name", name}}}, {"spec", spec}};
}

Object PyTorchJob(const std::string& name, int workers, int exit_code,
                  const std::string& run_for) {
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "PyTorchJob"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"pytorchReplicaSpecs",
             {{"Master", {{"replicas", 1}, {"template", Template("pytorch", exit_code, run_for)}}},
              {"Worker",
               {{"replicas", workers}, {"template", Template("pytorch", exit_code, run_for)}}}}}}}};
}

// The job CRDs and the three backends' PodGroup CRDs, applied once before the tests.
class JobAndPodGroupCrds : public ::testing::Environment {
 public:
  void SetUp() override {
    for (const char* folder : {"charts/kubedl/crds/", "test/integration/gang/crds/"}) {
      absl::Status applied = kubedl::testing::ApplyCrds(folder);
      ASSERT_TRUE(applied.ok()) << applied;
    }
  }
};
const ::testing::Environment* const kCrds =
    ::testing::AddGlobalTestEnvironment(new JobAndPodGroupCrds());

class ReconcilerGangTest : public kubedl::testing::ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "gang-e2e"; }

  // Starts the backend: one of ours, or "python" (the example external backend).
  void StartBackend(const std::string& backend, std::vector<std::string> flags = {}) {
    if (backend == "python") {
      port_ = testing::FreeLoopbackPort();
      // Debian's python3 has python3-grpcio; another python3 first on PATH may not.
      std::vector<std::string> args;
      if (std::system("python3 -c 'import grpc' 2>/dev/null") == 0) {
        args = {"/usr/bin/env", "python3"};
      } else {
        args = {"/usr/bin/python3"};
      }
      args.push_back(Env("KUBEDL_REPO", ".") + "/examples/gang-backend-python/gang_backend.py");
      args.push_back(absl::StrCat("--port=", port_));
      python_ = LoggedProcess();
      ASSERT_TRUE(python_->Spawn(args));
      address_ = absl::StrCat("127.0.0.1:", port_);
      ASSERT_TRUE(kubedl::testing::Eventually(
          [&] { return std::system(absl::StrCat("bash -c 'exec 3<>/dev/tcp/127.0.0.1/", port_,
                                                "' 2>/dev/null").c_str()) == 0; },
          absl::Seconds(20)));
      return;
    }
    gang_ = std::make_unique<testing::GangSchedulerProcess>(KUBEDL_GANG_SCHEDULER_BINARY,
                                                            backend, std::move(flags));
    ASSERT_TRUE(gang_->Start());
    address_ = gang_->address();
  }

  void StartReconciler() {
    std::vector<std::string> args = {KUBEDL_RECONCILER_BINARY,
                                     "--kubeconfig=" + Env("KUBECONFIG"),
                                     "--leader-elect=false",
                                     "--workloads=TFJob,PyTorchJob",
                                     "--namespace=" + ns(),
                                     "--health-port=0",
                                     "--metrics-port=0",
                                     "--gang-scheduler-address=" + address_,
                                     "--insecure-plaintext-grpc"};
    reconciler_ = LoggedProcess();
    ASSERT_TRUE(reconciler_->Spawn(args));
  }

  std::vector<Object> Pods(const std::string& job) {
    kube::ListOptions options;
    options.label_selector = "training.kubeflow.org/job-name=" + job;
    absl::StatusOr<kube::ObjectList> pods = client().List(kube::resources::Pods(), ns(), options);
    EXPECT_TRUE(pods.ok()) << pods.status();
    std::vector<Object> out;
    if (pods.ok()) {
      for (const Object& pod : pods->items) out.push_back(pod);
    }
    return out;
  }

  // The job's condition of `type` with status True, or null.
  Object Condition(const kube::ResourceRef& ref, const std::string& job, const std::string& type) {
    absl::StatusOr<Object> got = client().Get(ref, ns(), job);
    if (!got.ok()) return nullptr;
    for (const Object& c : got->value("status", Object::object()).value("conditions",
                                                                        Object::array())) {
      if (c.value("type", "") == type && c.value("status", "") == "True") return c;
    }
    return nullptr;
  }
  Object CreatedCondition(const kube::ResourceRef& ref, const std::string& job) {
    return Condition(ref, job, "Created");
  }

  bool Finished(const kube::ResourceRef& ref, const std::string& job) {
    return !Condition(ref, job, "Succeeded").is_null();
  }

  bool PodGroupExists(const kube::ResourceRef& ref, const std::string& name) {
    return client().Get(ref, ns(), name).ok();
  }

  void SetPhase(const kube::ResourceRef& ref, const std::string& name, const std::string& phase) {
    ASSERT_TRUE(kubedl::testing::Eventually([&] { return PodGroupExists(ref, name); }));
    absl::StatusOr<Object> patched = client().Patch(ref, ns(), name, kube::PatchType::kMerge,
                                                    {{"status", {{"phase", phase}}}},
                                                    {.subresource = "status"});
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  std::vector<std::string> EventReasons(const std::string& job) {
    kube::ListOptions options;
    options.field_selector = "involvedObject.name=" + job;
    absl::StatusOr<kube::ObjectList> events =
        client().List(kube::resources::Events(), ns(), options);
    std::vector<std::string> reasons;
    if (events.ok()) {
      for (const Object& e : events->items) reasons.push_back(e.value("reason", ""));
    }
    return reasons;
  }

  std::unique_ptr<testing::GangSchedulerProcess> gang_;
  std::unique_ptr<kubedl::testing::ServiceProcess> python_;
  std::unique_ptr<kubedl::testing::ServiceProcess> reconciler_;
  std::string address_;
  int port_ = 0;
};

TEST_F(ReconcilerGangTest, VolcanoPodsAppearOnlyAfterThePodGroupRunsAndCarryTheirBinding) {
  StartBackend("volcano");
  StartReconciler();
  ASSERT_TRUE(client().Create(kTfJobs, ns(), TfJob("mnist", 3, -1, "")).ok());
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return PodGroupExists(kVolcano, "mnist"); }));
  absl::SleepFor(absl::Seconds(3));
  EXPECT_TRUE(Pods("mnist").empty()) << "no pod while the PodGroup is not admitted";
  Object created = CreatedCondition(kTfJobs, "mnist");
  ASSERT_FALSE(created.is_null());
  EXPECT_THAT(created.value("message", ""), HasSubstr("waiting for its gang to be admitted"));

  SetPhase(kVolcano, "mnist", "Running");
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return Pods("mnist").size() == 3; },
                                          absl::Seconds(120)));
  for (const Object& pod : Pods("mnist")) {
    EXPECT_EQ(pod["metadata"]["annotations"]["scheduling.k8s.io/group-name"], "mnist");
    EXPECT_EQ(pod["metadata"]["annotations"]["volcano.sh/task-spec"], "worker");
    EXPECT_EQ(pod["spec"]["schedulerName"], "volcano");
  }
  absl::StatusOr<Object> pod_group = client().Get(kVolcano, ns(), "mnist");
  ASSERT_TRUE(pod_group.ok());
  EXPECT_EQ((*pod_group)["spec"]["minMember"], 3);
}

TEST_F(ReconcilerGangTest, VolcanoMinAvailableTenOnAFourPodJobStaysCreatedWithoutPods) {
  StartBackend("volcano");
  StartReconciler();
  ASSERT_TRUE(client().Create(kTfJobs, ns(), TfJob("too-big", 4, -1, "", 10)).ok());
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return PodGroupExists(kVolcano, "too-big"); }));
  EXPECT_EQ((*client().Get(kVolcano, ns(), "too-big"))["spec"]["minMember"], 10);
  absl::SleepFor(absl::Seconds(4));
  EXPECT_TRUE(Pods("too-big").empty());
  EXPECT_FALSE(CreatedCondition(kTfJobs, "too-big").is_null());
  EXPECT_TRUE(Condition(kTfJobs, "too-big", "Running").is_null());
}

TEST_F(ReconcilerGangTest, SchedulerPluginsTfAndPyTorchJobsRunWholeAndTheirGangsGoAtTheEnd) {
  StartBackend("scheduler-plugins", {"--scheduler-plugins-scheduler-name=default-scheduler"});
  StartReconciler();
  ASSERT_TRUE(client().Create(kTfJobs, ns(), TfJob("tf", 2, 0, "3s")).ok());
  ASSERT_TRUE(client().Create(kPyTorchJobs, ns(), PyTorchJob("pt", 2, 0, "3s")).ok());
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return Pods("tf").size() == 2 &&
                                                       Pods("pt").size() == 3; },
                                          absl::Seconds(120)));
  for (const std::string job : {"tf", "pt"}) {
    for (const Object& pod : Pods(job)) {
      EXPECT_EQ(pod["metadata"]["labels"]["scheduling.x-k8s.io/pod-group"], job);
      EXPECT_EQ(pod["spec"]["schedulerName"], "default-scheduler");
    }
  }
  EXPECT_EQ((*client().Get(kSchedulerPlugins, ns(), "pt"))["spec"]["minMember"], 3);
  ASSERT_TRUE(kubedl::testing::Eventually(
      [&] { return Finished(kTfJobs, "tf") && Finished(kPyTorchJobs, "pt"); },
      absl::Seconds(180)));
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    return !PodGroupExists(kSchedulerPlugins, "tf") && !PodGroupExists(kSchedulerPlugins, "pt");
  }));
}

TEST_F(ReconcilerGangTest, KubeBatchPodsCarryTheGroupAnnotationAndScheduler) {
  StartBackend("kube-batch");
  StartReconciler();
  ASSERT_TRUE(client().Create(kPyTorchJobs, ns(), PyTorchJob("kb", 1, -1, "")).ok());
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return Pods("kb").size() == 2; },
                                          absl::Seconds(120)));
  for (const Object& pod : Pods("kb")) {
    EXPECT_EQ(pod["metadata"]["annotations"]["scheduling.k8s.io/group-name"], "kb");
    EXPECT_EQ(pod["spec"]["schedulerName"], "kube-batch");
  }
  EXPECT_EQ((*client().Get(kKubeBatch, ns(), "kb"))["spec"]["minMember"], 2);
}

TEST_F(ReconcilerGangTest, AGangServiceDownAtStartAndMidJobLosesNothing) {
  StartBackend("scheduler-plugins", {"--scheduler-plugins-scheduler-name=default-scheduler"});
  gang_->Kill();
  StartReconciler();
  ASSERT_TRUE(client().Create(kTfJobs, ns(), TfJob("patient", 2, 0, "6s")).ok());
  // Down: an event and a condition message say so, and no pod is made outside a gang.
  ASSERT_TRUE(kubedl::testing::Eventually([&] {
    Object created = CreatedCondition(kTfJobs, "patient");
    return !created.is_null() &&
           created.value("message", "").find("is unavailable") != std::string::npos;
  }, absl::Seconds(120)));
  EXPECT_THAT(EventReasons("patient"), Contains("GangSchedulingFailed"));
  EXPECT_TRUE(Pods("patient").empty());

  ASSERT_TRUE(gang_->Start());
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return Pods("patient").size() == 2; },
                                          absl::Seconds(180)));
  // Down again while the pods run: the job still finishes, and the gang goes once it is back.
  gang_->Kill();
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return Finished(kTfJobs, "patient"); },
                                          absl::Seconds(180)));
  EXPECT_TRUE(PodGroupExists(kSchedulerPlugins, "patient")) << "nobody could delete it yet";
  ASSERT_TRUE(gang_->Start());
  EXPECT_TRUE(kubedl::testing::Eventually(
      [&] { return !PodGroupExists(kSchedulerPlugins, "patient"); }, absl::Seconds(180)));
  EXPECT_EQ(Pods("patient").size(), 2u) << "no pod was made twice";
}

TEST_F(ReconcilerGangTest, TheExamplePythonBackendRunsAJobEndToEnd) {
  StartBackend("python");
  StartReconciler();
  ASSERT_TRUE(client().Create(kTfJobs, ns(), TfJob("external", 2, 0, "2s")).ok());
  ASSERT_TRUE(kubedl::testing::Eventually([&] { return Pods("external").size() == 2; },
                                          absl::Seconds(120)));
  for (const Object& pod : Pods("external")) {
    EXPECT_EQ(pod["metadata"]["labels"]["example.kubedl.io/gang"], "external");
  }
  EXPECT_TRUE(kubedl::testing::Eventually([&] { return Finished(kTfJobs, "external"); },
                                          absl::Seconds(180)));
}

}  // namespace
}  // namespace kubedl::gang
