// The reconciler's gRPC gang client against an in-process server running a fake GangScheduler.
#include "services/reconciler/gang/grpc_gang_client.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/v1/gang_scheduler.grpc.pb.h"

namespace kubedl::reconciler {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Records every request and answers with what the test set.
class FakeGangScheduler final : public v1::GangScheduler::Service {
 public:
  grpc::Status EnsureGang(grpc::ServerContext*, const v1::EnsureGangRequest* request,
                          v1::EnsureGangResponse* response) override {
    absl::MutexLock lock(&mu_);
    ensured_.push_back(*request);
    response->mutable_gang()->set_phase(phase_);
    response->mutable_gang()->set_backend_phase(backend_phase_);
    return status_;
  }
  grpc::Status BindPod(grpc::ServerContext*, const v1::BindPodRequest* request,
                       v1::BindPodResponse* response) override {
    absl::MutexLock lock(&mu_);
    bound_.push_back(*request);
    (*response->mutable_labels())["group"] = request->job().name();
    (*response->mutable_annotations())["task"] = request->replica_type();
    response->set_scheduler_name("gang-sched");
    response->set_warning(request->current_scheduler_name().empty() ? "" : "kept yours");
    return status_;
  }
  grpc::Status GetGang(grpc::ServerContext*, const v1::GetGangRequest* request,
                       v1::Gang* response) override {
    absl::MutexLock lock(&mu_);
    absl::SleepFor(delay_);
    got_.push_back(*request);
    response->set_phase(phase_);
    response->set_backend_phase(backend_phase_);
    return status_;
  }
  grpc::Status DeleteGang(grpc::ServerContext*, const v1::DeleteGangRequest* request,
                          v1::DeleteGangResponse*) override {
    absl::MutexLock lock(&mu_);
    deleted_.push_back(*request);
    return delete_status_;
  }

  void Answer(grpc::Status status) { absl::MutexLock lock(&mu_); status_ = std::move(status); }
  void AnswerDelete(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    delete_status_ = std::move(status);
  }
  void SetPhase(v1::Gang::Phase phase, std::string backend_phase) {
    absl::MutexLock lock(&mu_);
    phase_ = phase;
    backend_phase_ = std::move(backend_phase);
  }
  void SetDelay(absl::Duration delay) { absl::MutexLock lock(&mu_); delay_ = delay; }
  std::vector<v1::EnsureGangRequest> ensured() { absl::MutexLock lock(&mu_); return ensured_; }
  std::vector<v1::BindPodRequest> bound() { absl::MutexLock lock(&mu_); return bound_; }
  std::vector<v1::DeleteGangRequest> deleted() { absl::MutexLock lock(&mu_); return deleted_; }

 private:
  absl::Mutex mu_;
  grpc::Status status_ = grpc::Status::OK;
  grpc::Status delete_status_ = grpc::Status::OK;
  v1::Gang::Phase phase_ = v1::Gang::ADMITTED;
  std::string backend_phase_;
  absl::Duration delay_ = absl::ZeroDuration();
  std::vector<v1::EnsureGangRequest> ensured_;
  std::vector<v1::BindPodRequest> bound_;
  std::vector<v1::GetGangRequest> got_;
  std::vector<v1::DeleteGangRequest> deleted_;
};

api::Job ParseOrDie(const char* text) {
  absl::StatusOr<api::Job> job = api::ParseJob(api::Json::parse(text));
  EXPECT_TRUE(job.ok()) << job.status();
  return *job;
}

// A TFJob: 1 PS (2 containers), 4 workers with a high priority class and an init container.
api::Job TfJob() {
  return ParseOrDie(R"({
    "apiVersion": "kubeflow.org/v1", "kind": "TFJob",
    "metadata": {"name": "mnist", "namespace": "team", "uid": "uid-1"},
    "spec": {"tfReplicaSpecs": {
      "Worker": {"replicas": 4, "template": {"spec": {
        "priorityClassName": "high",
        "initContainers": [{"name": "fetch", "image": "busybox",
                            "resources": {"requests": {"memory": "3Gi"}}}],
        "containers": [{"name": "tensorflow", "image": "tf",
                        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                      "limits": {"cpu": "1", "nvidia.com/gpu": 1}}}]}}},
      "PS": {"replicas": 1, "template": {"spec": {"containers": [
        {"name": "tensorflow", "image": "tf", "resources": {"requests": {"cpu": "1"}}},
        {"name": "sidecar", "image": "s", "resources": {"limits": {"cpu": "250m"}}}]}}}
    }}})");
}

class GrpcGangClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port_);
    client_ = NewGrpcGangClient(address_);
  }
  void TearDown() override { server_->Shutdown(); }

  FakeGangScheduler fake_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
  std::unique_ptr<GangClient> client_;
};

TEST(BuildEnsureGangRequest, OwnerFieldsMinMemberFromReplicaSumAndPerPodRequestsInReconcileOrder) {
  absl::StatusOr<v1::EnsureGangRequest> request = BuildEnsureGangRequest(TfJob());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->job().api_version(), "kubeflow.org/v1");
  EXPECT_EQ(request->job().kind(), "TFJob");
  EXPECT_EQ(request->job().namespace_(), "team");
  EXPECT_EQ(request->job().name(), "mnist");
  EXPECT_EQ(request->job().uid(), "uid-1");
  EXPECT_EQ(request->min_member(), 5);
  EXPECT_TRUE(request->min_resources().empty());
  ASSERT_EQ(request->replicas_size(), 2);
  // TF reconcile order: PS before Worker, whatever order the manifest wrote.
  const v1::ReplicaResources& ps = request->replicas(0);
  EXPECT_EQ(ps.replica_type(), "PS");
  EXPECT_EQ(ps.replicas(), 1);
  // 1 + a sidecar's limit where it requests nothing.
  EXPECT_THAT(ps.requests(), UnorderedElementsAre(Pair("cpu", "1250m")));
  const v1::ReplicaResources& worker = request->replicas(1);
  EXPECT_EQ(worker.replica_type(), "Worker");
  EXPECT_EQ(worker.replicas(), 4);
  EXPECT_EQ(worker.priority_class_name(), "high");
  // Requests win over limits; the init container's 3Gi memory exceeds the container's 1Gi.
  EXPECT_THAT(worker.requests(), UnorderedElementsAre(Pair("cpu", "500m"),
                                                      Pair("memory", "3221225472"),
                                                      Pair("nvidia.com/gpu", "1")));
}

TEST(BuildEnsureGangRequest, SchedulingPolicyFieldsPassThrough) {
  api::Job job = ParseOrDie(R"({
    "apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
    "metadata": {"name": "bert", "namespace": "nlp", "uid": "u"},
    "spec": {"runPolicy": {"schedulingPolicy": {"minAvailable": 3, "queue": "research",
                                                "priorityClass": "urgent",
                                                "scheduleTimeoutSeconds": 90,
                                                "minResources": {"cpu": "8", "memory": 1024}}},
             "pytorchReplicaSpecs": {
               "Master": {"replicas": 1, "template": {"spec": {"containers": [
                 {"name": "pytorch", "image": "p"}]}}},
               "Worker": {"replicas": 7, "template": {"spec": {"containers": [
                 {"name": "pytorch", "image": "p"}]}}}}}})");
  absl::StatusOr<v1::EnsureGangRequest> request = BuildEnsureGangRequest(job);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->job().kind(), "PyTorchJob");
  EXPECT_EQ(request->min_member(), 3);
  EXPECT_EQ(request->queue(), "research");
  EXPECT_EQ(request->priority_class_name(), "urgent");
  EXPECT_EQ(request->schedule_timeout_seconds(), 90);
  EXPECT_THAT(request->min_resources(),
              UnorderedElementsAre(Pair("cpu", "8"), Pair("memory", "1024")));
}

TEST(BuildEnsureGangRequest, LegacyFlatRunPolicyKeysAreReadWithoutTheWebhook) {
  api::Job job = ParseOrDie(R"({
    "apiVersion": "kubeflow.org/v1", "kind": "TFJob",
    "metadata": {"name": "old", "namespace": "ns", "uid": "u"},
    "spec": {"schedulingPolicy": {"minAvailable": 2, "queue": "legacy"},
             "tfReplicaSpecs": {"Worker": {"replicas": 3, "template": {"spec": {
               "containers": [{"name": "tensorflow", "image": "t"}]}}}}}})");
  absl::StatusOr<v1::EnsureGangRequest> request = BuildEnsureGangRequest(job);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->min_member(), 2);
  EXPECT_EQ(request->queue(), "legacy");
}

TEST(BuildEnsureGangRequest, MinAvailableZeroMeansTheWholeJobAndUnsetReplicasCountOne) {
  api::Job job = ParseOrDie(R"({
    "apiVersion": "kubeflow.org/v1", "kind": "TFJob",
    "metadata": {"name": "j", "namespace": "ns", "uid": "u"},
    "spec": {"runPolicy": {"schedulingPolicy": {"minAvailable": 0}},
             "tfReplicaSpecs": {"chief": {"template": {"spec": {
               "containers": [{"name": "tensorflow", "image": "t"}]}}},
               "Worker": {"replicas": 2, "template": {"spec": {
               "containers": [{"name": "tensorflow", "image": "t"}]}}}}}})");
  absl::StatusOr<v1::EnsureGangRequest> request = BuildEnsureGangRequest(job);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->min_member(), 3);
  EXPECT_EQ(request->replicas(0).replica_type(), "Chief") << "canonical case is sent";
}

TEST(BuildEnsureGangRequest, AMalformedQuantityIsAnInvalidArgumentNamingTheField) {
  api::Job job = ParseOrDie(R"({
    "apiVersion": "kubeflow.org/v1", "kind": "TFJob",
    "metadata": {"name": "j", "namespace": "ns", "uid": "u"},
    "spec": {"tfReplicaSpecs": {"Worker": {"replicas": 1, "template": {"spec": {
               "containers": [{"name": "tensorflow", "image": "t",
                               "resources": {"requests": {"cpu": "lots"}}}]}}}}}})");
  absl::StatusOr<v1::EnsureGangRequest> request = BuildEnsureGangRequest(job);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(request.status().message()),
              ::testing::HasSubstr(
                  "tfReplicaSpecs.Worker.template.spec.containers[0].resources.requests.cpu"));
}

TEST_F(GrpcGangClientTest, EnsureGangSendsTheJobAndReturnsTheAdmission) {
  fake_.SetPhase(v1::Gang::PENDING, "Pending");
  absl::StatusOr<GangState> state = client_->EnsureGang(TfJob());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->admission, GangAdmission::kPending);
  EXPECT_EQ(state->backend_phase, "Pending");
  ASSERT_EQ(fake_.ensured().size(), 1u);
  EXPECT_EQ(fake_.ensured()[0].job().uid(), "uid-1");
  EXPECT_EQ(fake_.ensured()[0].min_member(), 5);
}

TEST_F(GrpcGangClientTest, GetGangMapsEveryPhase) {
  for (auto [phase, admission] :
       {std::pair{v1::Gang::PENDING, GangAdmission::kPending},
        std::pair{v1::Gang::ADMITTED, GangAdmission::kAdmitted},
        std::pair{v1::Gang::NOT_FOUND, GangAdmission::kNotFound}}) {
    fake_.SetPhase(phase, "x");
    absl::StatusOr<GangState> state = client_->GetGang(TfJob());
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->admission, admission);
  }
}

TEST_F(GrpcGangClientTest, AGangWithoutAPhaseIsAnErrorNotAnAdmission) {
  fake_.SetPhase(v1::Gang::PHASE_UNSPECIFIED, "");
  absl::StatusOr<GangState> state = client_->GetGang(TfJob());
  ASSERT_FALSE(state.ok());
  EXPECT_THAT(std::string(state.status().message()), ::testing::HasSubstr("admission phase"));
}

TEST_F(GrpcGangClientTest, BindPodReturnsLabelsAnnotationsSchedulerAndWarning) {
  absl::StatusOr<PodBinding> binding = client_->BindPod(TfJob(), "Worker", 3, "mine");
  ASSERT_TRUE(binding.ok()) << binding.status();
  EXPECT_THAT(binding->labels, ElementsAre(Pair("group", "mnist")));
  EXPECT_THAT(binding->annotations, ElementsAre(Pair("task", "Worker")));
  EXPECT_EQ(binding->scheduler_name, "gang-sched");
  EXPECT_EQ(binding->warning, "kept yours");
  ASSERT_EQ(fake_.bound().size(), 1u);
  EXPECT_EQ(fake_.bound()[0].index(), 3);
  EXPECT_EQ(fake_.bound()[0].current_scheduler_name(), "mine");
}

TEST_F(GrpcGangClientTest, DeleteGangTreatsNotFoundAsSuccess) {
  fake_.AnswerDelete(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such gang"));
  EXPECT_TRUE(client_->DeleteGang(TfJob()).ok());
  ASSERT_EQ(fake_.deleted().size(), 1u);
  EXPECT_EQ(fake_.deleted()[0].job().name(), "mnist");
  fake_.AnswerDelete(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"));
  EXPECT_EQ(client_->DeleteGang(TfJob()).code(), absl::StatusCode::kUnavailable);
}

TEST_F(GrpcGangClientTest, GrpcCodesBecomeTheSameAbslCodesWithTheAddress) {
  for (auto [grpc_code, absl_code] :
       {std::pair{grpc::StatusCode::UNAVAILABLE, absl::StatusCode::kUnavailable},
        std::pair{grpc::StatusCode::FAILED_PRECONDITION, absl::StatusCode::kFailedPrecondition},
        std::pair{grpc::StatusCode::INVALID_ARGUMENT, absl::StatusCode::kInvalidArgument},
        std::pair{grpc::StatusCode::ABORTED, absl::StatusCode::kAborted}}) {
    fake_.Answer(grpc::Status(grpc_code, "the backend's words"));
    absl::StatusOr<GangState> state = client_->EnsureGang(TfJob());
    ASSERT_FALSE(state.ok());
    EXPECT_EQ(state.status().code(), absl_code);
    EXPECT_THAT(std::string(state.status().message()), ::testing::HasSubstr(address_));
    EXPECT_THAT(std::string(state.status().message()),
                ::testing::HasSubstr("the backend's words"));
  }
}

TEST_F(GrpcGangClientTest, ASlowServiceRunsIntoTheDeadline) {
  fake_.SetDelay(absl::Milliseconds(500));
  std::unique_ptr<GangClient> impatient = NewGrpcGangClient(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()), address_,
      GrpcGangClientOptions{.deadline = absl::Milliseconds(100)});
  absl::StatusOr<GangState> state = impatient->GetGang(TfJob());
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(state.status().message()), ::testing::HasSubstr("in time"));
}

TEST(GrpcGangClient, AnUnreachableServiceIsUnavailableNotAHang) {
  // A port nothing listens on: the kernel refuses at once.
  std::unique_ptr<GangClient> client = NewGrpcGangClient("127.0.0.1:1");
  const absl::Time start = absl::Now();
  absl::StatusOr<GangState> state = client->EnsureGang(TfJob());
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(state.status().message()),
              ::testing::HasSubstr("gang scheduler at 127.0.0.1:1 is unavailable"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(GrpcGangClient, AnUnreadableCaFileIsReportedByEveryCall) {
  std::unique_ptr<GangClient> client = NewGrpcGangClient("127.0.0.1:1", "/nonexistent/ca.crt");
  absl::Status deleted = client->DeleteGang(TfJob());
  EXPECT_EQ(deleted.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(deleted.message()), ::testing::HasSubstr("/nonexistent/ca.crt"));
}

}  // namespace
}  // namespace kubedl::reconciler
