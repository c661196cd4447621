// Gang scheduling on the local control plane, below the reconciler: real TFJobs and PyTorchJobs
// in the API server, the reconciler's gRPC client, a real kubedl-gang-scheduler process per
// backend, and the PodGroups it writes (CRDs from test/integration/gang/crds).
#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"
#include "kubedl/testing/cluster.h"
#include "services/reconciler/gang/grpc_gang_client.h"
#include "test/integration/gang/gang_scheduler_process.h"

namespace kubedl::gang {
namespace {

using kube::Object;
using reconciler::GangAdmission;
using reconciler::GangClient;
using reconciler::GangState;
using reconciler::PodBinding;
using ::testing::Contains;
using ::testing::Pair;

struct BackendCase {
  std::string name;
  kube::ResourceRef pod_groups;
  bool has_min_resources;
  bool has_queue;
  bool has_timeout;
  bool waits_for_admission;
  std::string scheduler_name;
};

void PrintTo(const BackendCase& backend, std::ostream* out) { *out << backend.name; }

// The PodGroup CRDs of the three backends, applied once before the tests (kubectl apply is
// idempotent, so runs share them).
class PodGroupCrds : public ::testing::Environment {
 public:
  void SetUp() override {
    absl::Status applied = kubedl::testing::ApplyCrds("test/integration/gang/crds/");
    ASSERT_TRUE(applied.ok()) << applied;
  }
};
const ::testing::Environment* const kCrds =
    ::testing::AddGlobalTestEnvironment(new PodGroupCrds());

const kube::ResourceRef kTfJobs{"kubeflow.org", "v1", "tfjobs", true};
const kube::ResourceRef kPyTorchJobs{"kubeflow.org", "v1", "pytorchjobs", true};

std::vector<BackendCase> Backends() {
  return {{"volcano", {"scheduling.volcano.sh", "v1beta1", "podgroups", true}, true, true, false,
           true, "volcano"},
          {"scheduler-plugins", {"scheduling.x-k8s.io", "v1alpha1", "podgroups", true}, true,
           false, true, false, "scheduler-plugins-scheduler"},
          {"kube-batch", {"scheduling.incubator.k8s.io", "v1alpha1", "podgroups", true}, false,
           false, false, false, "kube-batch"}};
}

Object Container(const char* name, Object resources) {
  return {{"name", name}, {"image", "busybox"}, {"resources", std::move(resources)}};
}

// PS 1 × (1 CPU, 2Gi) and Worker 3 × (2 CPU, 4Gi, 1 GPU); queue and timeout in the policy.
Object TfJobManifest(const std::string& name) {
  Object ps = {{"replicas", 1},
               {"template", {{"spec", {{"containers", Object::array({Container(
                   "tensorflow", {{"requests", {{"cpu", "1"}, {"memory", "2Gi"}}}})})}}}}}};
  Object worker = {
      {"replicas", 3},
      {"template",
       {{"spec",
         {{"containers",
           Object::array({Container("tensorflow", {{"requests", {{"cpu", "2"}, {"memory", "4Gi"}}},
                                                   {"limits", {{"nvidia.com/gpu", 1}}}})})}}}}}};
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "TFJob"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"runPolicy",
             {{"schedulingPolicy", {{"queue", "research"}, {"scheduleTimeoutSeconds", 120}}}}},
            {"tfReplicaSpecs", {{"PS", ps}, {"Worker", worker}}}}}};
}

// Master 1 × 500m and Worker `workers` × (500m, limit 1Gi), minAvailable as given (0: unset).
Object PyTorchJobManifest(const std::string& name, int workers, int min_available) {
  Object master = {{"replicas", 1},
                   {"template", {{"spec", {{"containers", Object::array({Container(
                       "pytorch", {{"requests", {{"cpu", "500m"}}}})})}}}}}};
  Object worker = {
      {"replicas", workers},
      {"template",
       {{"spec", {{"containers", Object::array({Container(
                      "pytorch", {{"requests", {{"cpu", "500m"}}},
                                  {"limits", {{"memory", "1Gi"}}}})})}}}}}};
  Object spec = {{"pytorchReplicaSpecs", {{"Master", master}, {"Worker", worker}}}};
  if (min_available > 0) {
    spec["runPolicy"] = {{"schedulingPolicy",
                          {{"minAvailable", min_available}, {"priorityClass", "team-high"}}}};
  }
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "PyTorchJob"},
          {"metadata", {{"name", name}}},
          {"spec", spec}};
}

// The binary this build made (CMake passes its path).
std::string BinaryPath() { return KUBEDL_GANG_SCHEDULER_BINARY; }

class GangIntegrationTest : public kubedl::testing::ClusterTest,
                            public ::testing::WithParamInterface<BackendCase> {
 protected:
  std::string NamespacePrefix() const override { return "gang-it"; }

  void SetUp() override {
    kubedl::testing::ClusterTest::SetUp();
    process_ = std::make_unique<testing::GangSchedulerProcess>(BinaryPath(), GetParam().name);
    ASSERT_TRUE(process_->Start()) << BinaryPath();
    gangs_ = reconciler::NewGrpcGangClient(process_->address());
  }

  // Creates the job in the API server and returns it as the reconciler would see it.
  api::Job CreateJob(const kube::ResourceRef& ref, const Object& manifest) {
    absl::StatusOr<Object> created = client().Create(ref, ns(), manifest);
    EXPECT_TRUE(created.ok()) << created.status();
    absl::StatusOr<api::Job> job = api::ParseJob(api::Json::parse(created->dump()));
    EXPECT_TRUE(job.ok()) << job.status();
    return *job;
  }

  Object PodGroup(const std::string& name) {
    absl::StatusOr<Object> pod_group = client().Get(GetParam().pod_groups, ns(), name);
    EXPECT_TRUE(pod_group.ok()) << pod_group.status();
    return pod_group.ok() ? *pod_group : Object::object();
  }

  void ExpectOwnedBy(const Object& pod_group, const api::Job& job) {
    ASSERT_TRUE(pod_group["metadata"].contains("ownerReferences"));
    const Object& owner = pod_group["metadata"]["ownerReferences"][0];
    EXPECT_EQ(owner["uid"], job.uid);
    EXPECT_EQ(owner["kind"], std::string(job.descriptor().name));
    EXPECT_EQ(owner["apiVersion"], "kubeflow.org/v1");
    EXPECT_EQ(owner["controller"], true);
  }

  void ExpectBinding(const api::Job& job, const std::string& type) {
    absl::StatusOr<PodBinding> binding = gangs_->BindPod(job, type, 0, "");
    ASSERT_TRUE(binding.ok()) << binding.status();
    EXPECT_EQ(binding->scheduler_name, GetParam().scheduler_name);
    if (GetParam().name == "scheduler-plugins") {
      EXPECT_THAT(binding->labels, Contains(Pair("scheduling.x-k8s.io/pod-group", job.name)));
    } else {
      EXPECT_THAT(binding->annotations,
                  Contains(Pair("scheduling.k8s.io/group-name", job.name)));
    }
    if (GetParam().name == "volcano") {
      std::string lower = type;
      for (char& c : lower) c = static_cast<char>(std::tolower(c));
      EXPECT_THAT(binding->annotations, Contains(Pair("volcano.sh/task-spec", lower)));
    }
    absl::StatusOr<PodBinding> other = gangs_->BindPod(job, type, 0, "my-scheduler");
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(other->scheduler_name.empty());
    EXPECT_THAT(other->warning, ::testing::HasSubstr("my-scheduler"));
  }

  void SetPodGroupPhase(const std::string& name, const std::string& phase) {
    absl::StatusOr<Object> patched =
        client().Patch(GetParam().pod_groups, ns(), name, kube::PatchType::kMerge,
                       {{"status", {{"phase", phase}}}}, {.subresource = "status"});
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  std::unique_ptr<testing::GangSchedulerProcess> process_;
  std::unique_ptr<GangClient> gangs_;
};

TEST_P(GangIntegrationTest, ATfJobGetsAPodGroupWithTheRightSpecOwnedByTheJob) {
  api::Job job = CreateJob(kTfJobs, TfJobManifest("mnist"));
  absl::StatusOr<GangState> state = gangs_->EnsureGang(job);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->admission,
            GetParam().waits_for_admission ? GangAdmission::kPending : GangAdmission::kAdmitted);

  Object pod_group = PodGroup("mnist");
  ExpectOwnedBy(pod_group, job);
  const Object& spec = pod_group["spec"];
  EXPECT_EQ(spec["minMember"], 4);
  if (GetParam().has_min_resources) {
    EXPECT_EQ(spec["minResources"], Object({{"cpu", "7"}, {"memory", "15032385536"},
                                            {"nvidia.com/gpu", "3"}}));
  } else {
    EXPECT_FALSE(spec.contains("minResources"));
  }
  if (GetParam().has_queue) {
    EXPECT_EQ(spec["queue"], "research");
  }
  if (GetParam().has_timeout) {
    EXPECT_EQ(spec["scheduleTimeoutSeconds"], 120);
  } else {
    EXPECT_FALSE(spec.contains("scheduleTimeoutSeconds"));
  }
  ExpectBinding(job, "PS");
  ExpectBinding(job, "Worker");
}

TEST_P(GangIntegrationTest, APyTorchJobGetsMinAvailableAndTheRequestsOfItsFirstPods) {
  api::Job job = CreateJob(kPyTorchJobs, PyTorchJobManifest("bert", 2, 2));
  absl::StatusOr<GangState> state = gangs_->EnsureGang(job);
  ASSERT_TRUE(state.ok()) << state.status();
  Object pod_group = PodGroup("bert");
  ExpectOwnedBy(pod_group, job);
  const Object& spec = pod_group["spec"];
  EXPECT_EQ(spec["minMember"], 2);
  // Master and one worker: 2 × 500m, and the worker's memory limit (it requests none).
  if (GetParam().has_min_resources) {
    EXPECT_EQ(spec["minResources"], Object({{"cpu", "1"}, {"memory", "1073741824"}}));
  }
  if (GetParam().name == "volcano") {
    EXPECT_EQ(spec["priorityClassName"], "team-high");
    EXPECT_EQ(spec["queue"], "default");
  }
  ExpectBinding(job, "Master");
  ExpectBinding(job, "Worker");
}

TEST_P(GangIntegrationTest, TheGangIsGoneWhenTheJobFinishesAndWhenItIsDeleted) {
  // Finished: the reconciler deletes the gang.
  api::Job finished = CreateJob(kTfJobs, TfJobManifest("finished"));
  ASSERT_TRUE(gangs_->EnsureGang(finished).ok());
  ASSERT_TRUE(gangs_->DeleteGang(finished).ok());
  EXPECT_TRUE(kube::IsNotFound(client().Get(GetParam().pod_groups, ns(), "finished").status()));
  absl::StatusOr<GangState> state = gangs_->GetGang(finished);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->admission, GangAdmission::kNotFound);
  EXPECT_TRUE(gangs_->DeleteGang(finished).ok()) << "again: NotFound counts as deleted";

  // Deleted: the garbage collector follows the owner reference.
  api::Job deleted = CreateJob(kPyTorchJobs, PyTorchJobManifest("deleted", 1, 0));
  ASSERT_TRUE(gangs_->EnsureGang(deleted).ok());
  kube::DeleteOptions background;
  background.propagation_policy = "Background";
  ASSERT_TRUE(client().Delete(kPyTorchJobs, ns(), "deleted", background).ok());
  EXPECT_TRUE(kubedl::testing::Eventually(
      [&] { return kube::IsNotFound(client().Get(GetParam().pod_groups, ns(), "deleted").status()); },
      absl::Seconds(60)));
}

TEST_P(GangIntegrationTest, AGangServiceKilledAndRestartedMidJobLosesNothing) {
  api::Job job = CreateJob(kTfJobs, TfJobManifest("survivor"));
  ASSERT_TRUE(gangs_->EnsureGang(job).ok());
  SetPodGroupPhase("survivor", "Running");
  const std::string version = kube::ResourceVersion(PodGroup("survivor"));

  process_->Kill();
  absl::StatusOr<GangState> down = gangs_->GetGang(job);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(down.status().message()), ::testing::HasSubstr("unavailable"));

  ASSERT_TRUE(process_->Start());
  // The same client finds the service again; the gang is as it was.
  absl::StatusOr<GangState> state;
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    state = gangs_->EnsureGang(job);
    return state.ok();
  }, absl::Seconds(15))) << state.status();
  EXPECT_EQ(state->admission, GangAdmission::kAdmitted);
  EXPECT_EQ(state->backend_phase, "Running");
  EXPECT_EQ(kube::ResourceVersion(PodGroup("survivor")), version) << "nothing was rewritten";
  ExpectBinding(job, "Worker");
}

INSTANTIATE_TEST_SUITE_P(Backends, GangIntegrationTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<BackendCase>& info) {
                           std::string name = info.param.name;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

class VolcanoAdmissionTest : public GangIntegrationTest {};

TEST_P(VolcanoAdmissionTest, PodsMayStartOnlyAfterThePodGroupPhaseIsRunning) {
  api::Job job = CreateJob(kTfJobs, TfJobManifest("waits"));
  absl::StatusOr<GangState> state = gangs_->EnsureGang(job);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->admission, GangAdmission::kPending);
  state = gangs_->GetGang(job);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->admission, GangAdmission::kPending);

  SetPodGroupPhase("waits", "Pending");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(gangs_->GetGang(job)->admission, GangAdmission::kPending) << "Pending is not admitted";

  SetPodGroupPhase("waits", "Running");
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    absl::StatusOr<GangState> now = gangs_->GetGang(job);
    return now.ok() && now->admission == GangAdmission::kAdmitted &&
           now->backend_phase == "Running";
  }, absl::Seconds(10)));
}

TEST_P(VolcanoAdmissionTest, MinAvailableTenOnAFourPodJobStaysPending) {
  api::Job job = CreateJob(kPyTorchJobs, PyTorchJobManifest("too-big", 3, 10));
  absl::StatusOr<GangState> state = gangs_->EnsureGang(job);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(PodGroup("too-big")["spec"]["minMember"], 10);
  for (int i = 0; i < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    state = gangs_->EnsureGang(job);
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->admission, GangAdmission::kPending);
  }
}

INSTANTIATE_TEST_SUITE_P(Volcano, VolcanoAdmissionTest, ::testing::Values(Backends()[0]),
                         [](const auto&) { return std::string("volcano"); });

}  // namespace
}  // namespace kubedl::gang
