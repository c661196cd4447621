// Conformance of a gang scheduler backend: any program serving kubedl.v1.GangScheduler
// (proto/kubedl/v1/gang_scheduler.proto) must pass this suite to plug into KubeDL.
//
//   KUBEDL_GANG_ADDRESS=host:port   the backend (required)
//   KUBEDL_GANG_CA_FILE=ca.crt      speak TLS, trusting this CA (optional)
//   KUBECONFIG=...                  when set, every job is a real TFJob (the job CRDs from
//                                   charts/kubedl/crds are applied) in a fresh namespace, so a
//                                   backend that checks the live job or writes owner references
//                                   finds it; else a fixed namespace and made-up UIDs
//   KUBEDL_GANG_PODGROUP=group/version/resource
//                                   when set, the PodGroup each gang maps to is read from the
//                                   API server and its spec checked (our own backends)
//
// Only the wire contract is checked; how a backend stores its gangs is its own business.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/resource.h"
#include "kubedl/testing/cluster.h"
#include "kubedl/v1/gang_scheduler.grpc.pb.h"

namespace kubedl::conformance {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::shared_ptr<grpc::Channel> BackendChannel() {
  const std::string address = Env("KUBEDL_GANG_ADDRESS");
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (const std::string ca = Env("KUBEDL_GANG_CA_FILE"); !ca.empty()) {
    std::ifstream in(ca);
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(options);
  }
  return grpc::CreateChannel(address, credentials);
}

class GangConformance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_FALSE(Env("KUBEDL_GANG_ADDRESS").empty())
        << "set KUBEDL_GANG_ADDRESS=host:port of the backend under test";
    stub_ = v1::GangScheduler::NewStub(BackendChannel()).release();
    if (!Env("KUBECONFIG").empty()) {
      absl::Status crds = testing::ApplyCrds("charts/kubedl/crds/");
      ASSERT_TRUE(crds.ok()) << crds;
      auto client = testing::ClientFromTestEnvironment();
      ASSERT_TRUE(client.ok()) << client.status();
      client_ = client->release();
      auto ns = testing::TestNamespace::Create(*client_, "gang-conformance");
      ASSERT_TRUE(ns.ok()) << ns.status();
      namespace_ = ns->release();
    }
  }
  static void TearDownTestSuite() {
    delete namespace_;
    delete client_;
    delete stub_;
  }

  std::string ns() const { return namespace_ ? namespace_->name() : "gang-conformance"; }

  // A job reference to a real TFJob when there is an API server (no reconciler runs it).
  v1::JobRef Job(const std::string& prefix = "job") {
    v1::JobRef job;
    job.set_namespace_(ns());
    job.set_name(testing::RandomName(prefix));
    if (client_ != nullptr) {
      kube::Object worker = {
          {"replicas", 1},
          {"template", {{"spec", {{"containers", kube::Object::array({{{"name", "tensorflow"},
                                                                      {"image", "busybox"}}})}}}}}};
      kube::Object tf_job = {{"apiVersion", "kubeflow.org/v1"},
                             {"kind", "TFJob"},
                             {"metadata", {{"name", job.name()}}},
                             {"spec", {{"tfReplicaSpecs", {{"Worker", worker}}}}}};
      auto created = client_->Create({"kubeflow.org", "v1", "tfjobs", true}, ns(), tf_job);
      EXPECT_TRUE(created.ok()) << created.status();
      job.set_api_version("kubeflow.org/v1");
      job.set_kind("TFJob");
      job.set_uid(created.ok() ? kube::Uid(*created) : "");
    } else {
      job.set_api_version("kubeflow.org/v1");
      job.set_kind("TFJob");
      job.set_uid(testing::RandomName("uid"));
    }
    return job;
  }

  static v1::EnsureGangRequest Ensure(const v1::JobRef& job, int min_member) {
    v1::EnsureGangRequest request;
    *request.mutable_job() = job;
    request.set_min_member(min_member);
    v1::ReplicaResources* worker = request.add_replicas();
    worker->set_replica_type("Worker");
    worker->set_replicas(min_member);
    (*worker->mutable_requests())["cpu"] = "500m";
    (*worker->mutable_requests())["memory"] = "1Gi";
    return request;
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  static grpc::Status CallEnsure(const v1::EnsureGangRequest& request, v1::Gang* gang = nullptr) {
    v1::EnsureGangResponse response;
    grpc::Status status = stub_->EnsureGang(Context().get(), request, &response);
    if (gang != nullptr) *gang = response.gang();
    return status;
  }
  static grpc::Status CallGet(const v1::JobRef& job, v1::Gang& gang) {
    v1::GetGangRequest request;
    *request.mutable_job() = job;
    return stub_->GetGang(Context().get(), request, &gang);
  }
  static grpc::Status CallDelete(const v1::JobRef& job) {
    v1::DeleteGangRequest request;
    *request.mutable_job() = job;
    v1::DeleteGangResponse response;
    return stub_->DeleteGang(Context().get(), request, &response);
  }
  static grpc::Status CallBind(const v1::JobRef& job, const std::string& type, int index,
                               const std::string& scheduler, v1::BindPodResponse& binding) {
    v1::BindPodRequest request;
    *request.mutable_job() = job;
    request.set_replica_type(type);
    request.set_index(index);
    request.set_current_scheduler_name(scheduler);
    return stub_->BindPod(Context().get(), request, &binding);
  }

  // The PodGroup behind a gang, when the suite was told where to look; nullopt otherwise.
  std::optional<kube::Object> PodGroup(const v1::JobRef& job) {
    const std::string where = Env("KUBEDL_GANG_PODGROUP");
    if (where.empty() || client_ == nullptr) return std::nullopt;
    std::vector<std::string> parts = absl::StrSplit(where, '/');
    if (parts.size() != 3) {
      ADD_FAILURE() << "KUBEDL_GANG_PODGROUP must be group/version/resource";
      return std::nullopt;
    }
    kube::ResourceRef ref{parts[0], parts[1], parts[2], true};
    auto pod_group = client_->Get(ref, job.namespace_(), job.name());
    EXPECT_TRUE(pod_group.ok()) << pod_group.status();
    if (!pod_group.ok()) return kube::Object::object();
    return *pod_group;
  }

  static inline v1::GangScheduler::Stub* stub_ = nullptr;
  static inline kube::Client* client_ = nullptr;
  static inline testing::TestNamespace* namespace_ = nullptr;
};

bool Live(v1::Gang::Phase phase) {
  return phase == v1::Gang::PENDING || phase == v1::Gang::ADMITTED;
}

TEST_F(GangConformance, EnsureGangCreatesAGangNamedAfterTheJobThatGetGangFinds) {
  v1::JobRef job = Job();
  v1::Gang gang;
  ASSERT_TRUE(CallEnsure(Ensure(job, 3), &gang).ok());
  EXPECT_EQ(gang.name(), job.name());
  EXPECT_EQ(gang.namespace_(), job.namespace_());
  EXPECT_TRUE(Live(gang.phase())) << v1::Gang::Phase_Name(gang.phase());
  EXPECT_EQ(gang.min_member(), 3);
  v1::Gang got;
  ASSERT_TRUE(CallGet(job, got).ok());
  EXPECT_EQ(got.name(), job.name());
  EXPECT_TRUE(Live(got.phase())) << v1::Gang::Phase_Name(got.phase());
  EXPECT_EQ(got.min_member(), 3);
}

TEST_F(GangConformance, EnsureGangTwiceLeavesOneUnchangedGang) {
  v1::JobRef job = Job();
  v1::Gang first, second;
  ASSERT_TRUE(CallEnsure(Ensure(job, 4), &first).ok());
  ASSERT_TRUE(CallEnsure(Ensure(job, 4), &second).ok());
  EXPECT_EQ(first.min_member(), second.min_member());
  EXPECT_EQ(first.name(), second.name());
  v1::Gang got;
  ASSERT_TRUE(CallGet(job, got).ok());
  EXPECT_EQ(got.min_member(), 4);
}

TEST_F(GangConformance, ConcurrentEnsureGangCallsForOneJobAllSucceed) {
  v1::JobRef job = Job();
  std::vector<std::thread> callers;
  std::vector<grpc::Status> results(8);
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] { results[i] = CallEnsure(Ensure(job, 2)); });
  }
  for (std::thread& caller : callers) caller.join();
  for (const grpc::Status& status : results) {
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  }
  v1::Gang got;
  ASSERT_TRUE(CallGet(job, got).ok());
  EXPECT_EQ(got.min_member(), 2);
}

TEST_F(GangConformance, EnsureGangUpdatesMinMember) {
  v1::JobRef job = Job();
  ASSERT_TRUE(CallEnsure(Ensure(job, 2)).ok());
  v1::Gang gang;
  ASSERT_TRUE(CallEnsure(Ensure(job, 6), &gang).ok());
  EXPECT_EQ(gang.min_member(), 6);
  v1::Gang got;
  ASSERT_TRUE(CallGet(job, got).ok());
  EXPECT_EQ(got.min_member(), 6);
}

TEST_F(GangConformance, MinResourcesOfThePolicyOrOfTheFirstMinMemberPodsReachTheGang) {
  v1::JobRef computed = Job();
  v1::EnsureGangRequest request = Ensure(computed, 3);
  ASSERT_TRUE(CallEnsure(request).ok());
  v1::JobRef given = Job();
  request = Ensure(given, 3);
  (*request.mutable_min_resources())["cpu"] = "7";
  ASSERT_TRUE(CallEnsure(request).ok());
  // Where the gang is a PodGroup we can read, its spec says so (3 × 500m, 3 × 1Gi).
  if (std::optional<kube::Object> pod_group = PodGroup(computed)) {
    const kube::Object& spec = (*pod_group)["spec"];
    EXPECT_EQ(spec.value("minMember", 0), 3);
    if (spec.contains("minResources")) {
      EXPECT_EQ(spec["minResources"].value("cpu", ""), "1500m");
      EXPECT_EQ(spec["minResources"].value("memory", ""), "3221225472");
    }
  }
  if (std::optional<kube::Object> pod_group = PodGroup(given)) {
    const kube::Object& spec = (*pod_group)["spec"];
    if (spec.contains("minResources")) {
      EXPECT_EQ(spec["minResources"], kube::Object({{"cpu", "7"}}));
    }
  }
}

TEST_F(GangConformance, GetGangOfAJobWithoutGangIsNotFoundNotAnError) {
  v1::Gang got;
  grpc::Status status = CallGet(Job(), got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.phase(), v1::Gang::NOT_FOUND);
}

TEST_F(GangConformance, DeleteGangRemovesItAndAMissingGangCountsAsDeleted) {
  v1::JobRef job = Job();
  ASSERT_TRUE(CallEnsure(Ensure(job, 2)).ok());
  ASSERT_TRUE(CallDelete(job).ok());
  v1::Gang got;
  ASSERT_TRUE(CallGet(job, got).ok());
  EXPECT_EQ(got.phase(), v1::Gang::NOT_FOUND);
  grpc::Status again = CallDelete(job);
  EXPECT_TRUE(again.ok()) << again.error_code() << ": " << again.error_message();
  grpc::Status never = CallDelete(Job());
  EXPECT_TRUE(never.ok()) << never.error_code() << ": " << never.error_message();
}

TEST_F(GangConformance, AGangCanBeMadeAgainAfterItWasDeleted) {
  v1::JobRef job = Job();
  ASSERT_TRUE(CallEnsure(Ensure(job, 2)).ok());
  ASSERT_TRUE(CallDelete(job).ok());
  v1::Gang gang;
  ASSERT_TRUE(CallEnsure(Ensure(job, 3), &gang).ok());
  EXPECT_EQ(gang.min_member(), 3);
}

TEST_F(GangConformance, BindPodNamesTheGangAndIsTheSameForTheSamePod) {
  v1::JobRef job = Job();
  ASSERT_TRUE(CallEnsure(Ensure(job, 2)).ok());
  v1::BindPodResponse first, second;
  ASSERT_TRUE(CallBind(job, "Worker", 1, "", first).ok());
  ASSERT_TRUE(CallBind(job, "Worker", 1, "", second).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, second))
      << first.DebugString() << " vs " << second.DebugString();
  // The pod must be tied to its gang somehow: a label or annotation naming the job.
  bool names_the_gang = false;
  for (const auto& [key, value] : first.labels()) names_the_gang |= value == job.name();
  for (const auto& [key, value] : first.annotations()) names_the_gang |= value == job.name();
  EXPECT_TRUE(names_the_gang) << first.DebugString();
  EXPECT_TRUE(first.warning().empty()) << first.warning();
}

TEST_F(GangConformance, BindPodNeverOverridesASchedulerTheTemplateNamesAndWarns) {
  v1::JobRef job = Job();
  ASSERT_TRUE(CallEnsure(Ensure(job, 1)).ok());
  v1::BindPodResponse own, other;
  ASSERT_TRUE(CallBind(job, "Worker", 0, "", own).ok());
  ASSERT_TRUE(CallBind(job, "Worker", 0, "someone-elses-scheduler", other).ok());
  EXPECT_TRUE(other.scheduler_name().empty() ||
              other.scheduler_name() == "someone-elses-scheduler")
      << other.scheduler_name();
  // A backend with a scheduler of its own says that this pod will not use it.
  if (!own.scheduler_name().empty()) {
    EXPECT_FALSE(other.warning().empty());
  }
}

TEST_F(GangConformance, EnsureGangRefusesIncompleteOrMalformedRequests) {
  std::vector<std::pair<std::string, v1::EnsureGangRequest>> bad;
  v1::JobRef job = Job();
  bad.push_back({"no name", Ensure(job, 1)});
  bad.back().second.mutable_job()->clear_name();
  bad.push_back({"no namespace", Ensure(job, 1)});
  bad.back().second.mutable_job()->clear_namespace_();
  bad.push_back({"no uid", Ensure(job, 1)});
  bad.back().second.mutable_job()->clear_uid();
  bad.push_back({"negative min_member", Ensure(job, 1)});
  bad.back().second.set_min_member(-1);
  bad.push_back({"malformed min_resources", Ensure(job, 1)});
  (*bad.back().second.mutable_min_resources())["cpu"] = "a lot";
  bad.push_back({"malformed replica requests", Ensure(job, 1)});
  (*bad.back().second.mutable_replicas(0)->mutable_requests())["memory"] = "1.2.3Gi";
  for (const auto& [what, request] : bad) {
    grpc::Status status = CallEnsure(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << what << ": " << status.error_message();
  }
  // Nothing was made for the refused requests.
  v1::Gang got;
  ASSERT_TRUE(CallGet(job, got).ok());
  EXPECT_EQ(got.phase(), v1::Gang::NOT_FOUND);
}

TEST_F(GangConformance, BindGetAndDeleteRefuseAJobWithoutName) {
  v1::JobRef nameless = Job();
  nameless.clear_name();
  v1::BindPodResponse binding;
  EXPECT_EQ(CallBind(nameless, "Worker", 0, "", binding).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CallBind(Job(), "", 0, "", binding).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CallBind(Job(), "Worker", -1, "", binding).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::Gang gang;
  EXPECT_EQ(CallGet(nameless, gang).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CallDelete(nameless).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GangConformance, GangsOfDifferentJobsAreIndependent) {
  v1::JobRef a = Job("a"), b = Job("b");
  ASSERT_TRUE(CallEnsure(Ensure(a, 2)).ok());
  ASSERT_TRUE(CallEnsure(Ensure(b, 5)).ok());
  ASSERT_TRUE(CallDelete(a).ok());
  v1::Gang got;
  ASSERT_TRUE(CallGet(b, got).ok());
  EXPECT_TRUE(Live(got.phase()));
  EXPECT_EQ(got.min_member(), 5);
}

}  // namespace
}  // namespace kubedl::conformance
