// The gang service authorizes every call (issue 18): a real kubedl-gang-scheduler process, real
// gRPC calls made the way any pod in the cluster could make them, real jobs and PodGroups in the
// local API server. It touches only PodGroups it made for live KubeDL jobs, refuses protected
// namespaces, and answers errors with codes that say what the caller should do.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"
#include "kubedl/testing/cluster.h"
#include "kubedl/v1/gang_scheduler.grpc.pb.h"
#include "services/reconciler/gang/grpc_gang_client.h"
#include "test/integration/gang/gang_scheduler_process.h"

namespace kubedl::gang {
namespace {

using kube::Object;
using ::testing::HasSubstr;

const kube::ResourceRef kTfJobs{"kubeflow.org", "v1", "tfjobs", true};
const kube::ResourceRef kVolcanoPodGroups{"scheduling.volcano.sh", "v1beta1", "podgroups", true};
constexpr char kMadeUpUid[] = "3f1d2c4b-0000-4000-8000-000000000000";

class PodGroupCrds : public ::testing::Environment {
 public:
  void SetUp() override {
    absl::Status applied = kubedl::testing::ApplyCrds("test/integration/gang/crds/");
    ASSERT_TRUE(applied.ok()) << applied;
  }
};
const ::testing::Environment* const kCrds =
    ::testing::AddGlobalTestEnvironment(new PodGroupCrds());

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    default: return absl::StrCat("code ", static_cast<int>(code));
  }
}

// Prints the code a call got, for the record of what the service answers.
void Record(const std::string& what, const grpc::Status& status) {
  std::cout << "[gang-authz] " << what << ": " << CodeName(status.error_code()) << " ("
            << status.error_message().substr(0, 200) << ")\n";
}

// With the PodGroup cache (the default) and without it: the ownership checks read the cache
// first and must hold either way.
class GangAuthorizationTest : public kubedl::testing::ClusterTest,
                              public ::testing::WithParamInterface<bool> {
 protected:
  std::string NamespacePrefix() const override { return "gang-authz"; }

  void SetUp() override {
    kubedl::testing::ClusterTest::SetUp();
    std::vector<std::string> flags;
    if (!GetParam()) flags.push_back("--cache-pod-groups=false");
    process_ = std::make_unique<testing::GangSchedulerProcess>(KUBEDL_GANG_SCHEDULER_BINARY,
                                                               "volcano", flags);
    ASSERT_TRUE(process_->Start());
    stub_ = v1::GangScheduler::NewStub(
        grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
  }

  // A TFJob in the API server, and the reference the reconciler would send for it.
  v1::JobRef CreateTfJob(const std::string& name) {
    Object manifest = {
        {"apiVersion", "kubeflow.org/v1"},
        {"kind", "TFJob"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"tfReplicaSpecs",
           {{"Worker",
             {{"replicas", 2},
              {"template", {{"spec", {{"containers", Object::array({{{"name", "tensorflow"},
                                                                     {"image", "busybox"}}})}}}}}}}}}}}};
    absl::StatusOr<Object> created = client().Create(kTfJobs, ns(), manifest);
    EXPECT_TRUE(created.ok()) << created.status();
    return JobRef(name, created.ok() ? kube::Uid(*created) : "");
  }

  v1::JobRef JobRef(const std::string& name, const std::string& uid,
                    const std::string& in_namespace = "") const {
    v1::JobRef job;
    job.set_api_version("kubeflow.org/v1");
    job.set_kind("TFJob");
    job.set_namespace_(in_namespace.empty() ? ns() : in_namespace);
    job.set_name(name);
    job.set_uid(uid);
    return job;
  }

  static v1::EnsureGangRequest Ensure(const v1::JobRef& job, int min_member) {
    v1::EnsureGangRequest request;
    *request.mutable_job() = job;
    request.set_min_member(min_member);
    v1::ReplicaResources* worker = request.add_replicas();
    worker->set_replica_type("Worker");
    worker->set_replicas(min_member);
    (*worker->mutable_requests())["cpu"] = "1";
    return request;
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return context;
  }
  grpc::Status CallEnsure(const v1::EnsureGangRequest& request, v1::Gang* gang = nullptr) {
    v1::EnsureGangResponse response;
    grpc::Status status = stub_->EnsureGang(Context().get(), request, &response);
    if (gang != nullptr) *gang = response.gang();
    return status;
  }
  grpc::Status CallGet(const v1::JobRef& job, v1::Gang* gang = nullptr) {
    v1::GetGangRequest request;
    *request.mutable_job() = job;
    v1::Gang response;
    grpc::Status status = stub_->GetGang(Context().get(), request, &response);
    if (gang != nullptr) *gang = response;
    return status;
  }
  grpc::Status CallDelete(const v1::JobRef& job) {
    v1::DeleteGangRequest request;
    *request.mutable_job() = job;
    v1::DeleteGangResponse response;
    return stub_->DeleteGang(Context().get(), request, &response);
  }
  grpc::Status CallBind(const v1::JobRef& job) {
    v1::BindPodRequest request;
    *request.mutable_job() = job;
    request.set_replica_type("Worker");
    request.set_index(0);
    v1::BindPodResponse response;
    return stub_->BindPod(Context().get(), request, &response);
  }

  // A PodGroup someone else made: another team's, by hand or by another controller.
  Object CreateForeignPodGroup(const std::string& name, int min_member, Object metadata_extra) {
    Object pod_group = {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                        {"kind", "PodGroup"},
                        {"metadata", {{"name", name}, {"labels", {{"team", "b"}}}}},
                        {"spec", {{"minMember", min_member}, {"queue", "team-b"}}}};
    for (const auto& [key, value] : metadata_extra.items()) pod_group["metadata"][key] = value;
    absl::StatusOr<Object> created = client().Create(kVolcanoPodGroups, ns(), pod_group);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : Object::object();
  }

  absl::StatusOr<Object> PodGroup(const std::string& name, const std::string& in_namespace = "") {
    return client().Get(kVolcanoPodGroups, in_namespace.empty() ? ns() : in_namespace, name);
  }

  std::unique_ptr<testing::GangSchedulerProcess> process_;
  std::unique_ptr<v1::GangScheduler::Stub> stub_;
};

TEST_P(GangAuthorizationTest, PodGroupInAProtectedNamespaceIsRefused) {
  // kube-system by default: every call is refused before the API server is asked.
  const v1::JobRef system_job = JobRef("attack", kMadeUpUid, "kube-system");
  grpc::Status ensure = CallEnsure(Ensure(system_job, 1));
  Record("EnsureGang in kube-system", ensure);
  EXPECT_EQ(ensure.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(ensure.error_message(), HasSubstr("kube-system is protected"));
  EXPECT_TRUE(kube::IsNotFound(PodGroup("attack", "kube-system").status()))
      << "nothing was made in kube-system";
  for (const char* ns : {"kube-public", "kube-node-lease"}) {
    EXPECT_EQ(CallEnsure(Ensure(JobRef("attack", kMadeUpUid, ns), 1)).error_code(),
              grpc::StatusCode::PERMISSION_DENIED) << ns;
  }
  grpc::Status get = CallGet(system_job);
  grpc::Status del = CallDelete(system_job);
  grpc::Status bind = CallBind(system_job);
  Record("GetGang in kube-system", get);
  Record("DeleteGang in kube-system", del);
  Record("BindPod in kube-system", bind);
  EXPECT_EQ(get.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(del.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(bind.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The list is the flag's: a service told to protect this test's namespace refuses a live job
  // there that the default service serves.
  const v1::JobRef job = CreateTfJob("guarded");
  testing::GangSchedulerProcess guarding(KUBEDL_GANG_SCHEDULER_BINARY, "volcano",
                                         {"--protected-namespaces=kube-system, " + ns()});
  ASSERT_TRUE(guarding.Start());
  auto guarded_stub = v1::GangScheduler::NewStub(
      grpc::CreateChannel(guarding.address(), grpc::InsecureChannelCredentials()));
  v1::EnsureGangResponse response;
  grpc::Status refused = guarded_stub->EnsureGang(Context().get(), Ensure(job, 2), &response);
  Record("EnsureGang in a namespace named by --protected-namespaces", refused);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(kube::IsNotFound(PodGroup("guarded").status()));
  grpc::Status served = CallEnsure(Ensure(job, 2));
  EXPECT_TRUE(served.ok()) << served.error_message();
  EXPECT_TRUE(PodGroup("guarded").ok());
}

TEST_P(GangAuthorizationTest, DeleteOfAPodGroupKubeDlDidNotMakeIsRefused) {
  const Object theirs = CreateForeignPodGroup("theirs", 2, Object::object());
  const std::string version = kube::ResourceVersion(theirs);

  // The probe that used to delete it: no UID at all.
  grpc::Status no_uid = CallDelete(JobRef("theirs", ""));
  Record("DeleteGang without uid", no_uid);
  EXPECT_EQ(no_uid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A made-up UID.
  grpc::Status made_up = CallDelete(JobRef("theirs", kMadeUpUid));
  Record("DeleteGang of a PodGroup KubeDL did not make, made-up uid", made_up);
  EXPECT_EQ(made_up.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Even the UID of a live TFJob of that name: the PodGroup is still not the one KubeDL made.
  const v1::JobRef live = CreateTfJob("theirs");
  grpc::Status live_uid = CallDelete(live);
  Record("DeleteGang of a PodGroup KubeDL did not make, live job's uid", live_uid);
  EXPECT_EQ(live_uid.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(live_uid.error_message(), HasSubstr("is not the gang KubeDL made"));

  absl::StatusOr<Object> after = PodGroup("theirs");
  ASSERT_TRUE(after.ok()) << "still there: " << after.status();
  EXPECT_EQ(kube::ResourceVersion(*after), version) << "untouched";

  // A gang KubeDL made for another job: a caller with the wrong UID cannot delete it either.
  const v1::JobRef owner = CreateTfJob("owned");
  ASSERT_TRUE(CallEnsure(Ensure(owner, 2)).ok());
  const std::string owned_version = kube::ResourceVersion(*PodGroup("owned"));
  grpc::Status wrong_uid = CallDelete(JobRef("owned", kMadeUpUid));
  Record("DeleteGang of another job's gang, wrong uid", wrong_uid);
  EXPECT_EQ(wrong_uid.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(PodGroup("owned").ok());
  EXPECT_EQ(kube::ResourceVersion(*PodGroup("owned")), owned_version);
  // Its own job's DeleteGang works.
  grpc::Status own = CallDelete(owner);
  EXPECT_TRUE(own.ok()) << own.error_message();
  EXPECT_TRUE(kube::IsNotFound(PodGroup("owned").status()));
}

TEST_P(GangAuthorizationTest, RaisingMinMemberOfAnotherTeamsPodGroupIsRefusedAndLeavesItUnchanged) {
  // Another team's PodGroup, owned by their own object (a ConfigMap here).
  absl::StatusOr<Object> config = client().Create(
      kube::resources::ConfigMaps(), ns(),
      {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "team-b"}}}});
  ASSERT_TRUE(config.ok()) << config.status();
  const Object theirs = CreateForeignPodGroup(
      "team-b", 2,
      {{"ownerReferences", Object::array({{{"apiVersion", "v1"},
                                           {"kind", "ConfigMap"},
                                           {"name", "team-b"},
                                           {"uid", kube::Uid(*config)},
                                           {"controller", true}}})}});
  const std::string version = kube::ResourceVersion(theirs);

  // No job of that name: nothing to make a gang for.
  grpc::Status no_job = CallEnsure(Ensure(JobRef("team-b", kMadeUpUid), 99));
  Record("EnsureGang min 99 on another team's PodGroup, no such job", no_job);
  EXPECT_EQ(no_job.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // The owner's UID, as a job: ConfigMaps are not a kind KubeDL serves.
  v1::JobRef as_config_map = JobRef("team-b", kube::Uid(*config));
  as_config_map.set_api_version("v1");
  as_config_map.set_kind("ConfigMap");
  grpc::Status config_map = CallEnsure(Ensure(as_config_map, 99));
  Record("EnsureGang min 99 naming the ConfigMap owner as the job", config_map);
  EXPECT_EQ(config_map.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A live TFJob of the same name with its real UID: the PodGroup is still not KubeDL's.
  const v1::JobRef live = CreateTfJob("team-b");
  grpc::Status live_job = CallEnsure(Ensure(live, 99));
  Record("EnsureGang min 99 on another team's PodGroup, live TFJob of that name", live_job);
  EXPECT_EQ(live_job.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(live_job.error_message(), HasSubstr("left as it is"));

  absl::StatusOr<Object> after = PodGroup("team-b");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)["spec"]["minMember"], 2);
  EXPECT_EQ(kube::ResourceVersion(*after), version) << "not written at all";
  EXPECT_FALSE((*after)["metadata"]["labels"].contains("app.kubernetes.io/managed-by"));

  // The same against a gang KubeDL made for another team's job: a wrong UID changes nothing.
  const v1::JobRef team_c = CreateTfJob("team-c");
  ASSERT_TRUE(CallEnsure(Ensure(team_c, 2)).ok());
  const std::string made_version = kube::ResourceVersion(*PodGroup("team-c"));
  grpc::Status wrong_uid = CallEnsure(Ensure(JobRef("team-c", kMadeUpUid), 99));
  Record("EnsureGang min 99 on another job's gang, wrong uid", wrong_uid);
  EXPECT_EQ(wrong_uid.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ((*PodGroup("team-c"))["spec"]["minMember"], 2);
  EXPECT_EQ(kube::ResourceVersion(*PodGroup("team-c")), made_version);
}

TEST_P(GangAuthorizationTest, EnsureForAJobWhoseUidDoesNotMatchIsRefused) {
  const v1::JobRef job = CreateTfJob("mismatch");
  grpc::Status wrong = CallEnsure(Ensure(JobRef("mismatch", kMadeUpUid), 2));
  Record("EnsureGang, live job with another uid", wrong);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(wrong.error_message(), ::testing::Not(HasSubstr(job.uid())))
      << "the live UID is not given away";
  grpc::Status missing = CallEnsure(Ensure(JobRef("no-such-job", kMadeUpUid), 2));
  Record("EnsureGang, no such job", missing);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status empty = CallEnsure(Ensure(JobRef("mismatch", ""), 2));
  Record("EnsureGang, empty uid", empty);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::JobRef unserved = job;
  unserved.set_kind("Deployment");
  unserved.set_api_version("apps/v1");
  grpc::Status other_kind = CallEnsure(Ensure(unserved, 2));
  Record("EnsureGang, kind KubeDL does not serve", other_kind);
  EXPECT_EQ(other_kind.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(kube::IsNotFound(PodGroup("mismatch").status())) << "nothing was made";
  EXPECT_TRUE(kube::IsNotFound(PodGroup("no-such-job").status()));

  // The job's own UID is served.
  v1::Gang gang;
  grpc::Status right = CallEnsure(Ensure(job, 2), &gang);
  ASSERT_TRUE(right.ok()) << right.error_message();
  EXPECT_EQ(gang.min_member(), 2);
}

TEST_P(GangAuthorizationTest, OversizeNameIsInvalidArgumentNotFailedPrecondition) {
  const std::string mebibyte(1 << 20, 'a');
  const v1::JobRef huge = JobRef(mebibyte, kMadeUpUid);
  grpc::Status ensure = CallEnsure(Ensure(huge, 1));
  Record("EnsureGang, 1 MiB name", ensure);
  EXPECT_EQ(ensure.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ensure.error_message(), HasSubstr("1048576 characters"));
  EXPECT_LT(ensure.error_message().size(), 1000u) << "the name is not echoed whole";
  grpc::Status get = CallGet(huge), del = CallDelete(huge), bind = CallBind(huge);
  Record("GetGang, 1 MiB name", get);
  Record("DeleteGang, 1 MiB name", del);
  Record("BindPod, 1 MiB name", bind);
  EXPECT_EQ(get.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(del.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bind.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // At the bounds: 253 characters is a name, 254 is not; a namespace has 63 at most.
  const std::string longest(253, 'n');
  grpc::Status at_bound = CallEnsure(Ensure(JobRef(longest, kMadeUpUid), 1));
  Record("EnsureGang, 253-character name (no such job)", at_bound);
  EXPECT_EQ(at_bound.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << "a valid name reaches the job check";
  grpc::Status over = CallEnsure(Ensure(JobRef(longest + "n", kMadeUpUid), 1));
  Record("EnsureGang, 254-character name", over);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status long_namespace =
      CallEnsure(Ensure(JobRef("job", kMadeUpUid, std::string(64, 's')), 1));
  Record("EnsureGang, 64-character namespace", long_namespace);
  EXPECT_EQ(long_namespace.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const char* bad : {"Upper", "a/b", "../secrets", "trailing-", "a..b"}) {
    EXPECT_EQ(CallEnsure(Ensure(JobRef(bad, kMadeUpUid), 1)).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT) << bad;
  }
  v1::EnsureGangRequest bad_queue = Ensure(JobRef("job", kMadeUpUid), 1);
  bad_queue.set_queue(std::string(1 << 20, 'q'));
  EXPECT_EQ(CallEnsure(bad_queue).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::EnsureGangRequest bad_priority = Ensure(JobRef("job", kMadeUpUid), 1);
  bad_priority.mutable_replicas(0)->set_priority_class_name("../../namespaces");
  EXPECT_EQ(CallEnsure(bad_priority).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(GangAuthorizationTest, APodGroupTheApiServerRefusesAsTooLargeIsInvalidArgumentNotUnavailable) {
  const v1::JobRef job = CreateTfJob("heavy");
  // ~1.8 MB of minResources: under the API server's 3 MiB body limit, over etcd's 1.5 MiB
  // request limit ("etcdserver: request is too large", a 500 from the API server).
  v1::EnsureGangRequest over_etcd = Ensure(job, 1);
  for (int i = 0; i < 26000; ++i) {
    (*over_etcd.mutable_min_resources())[absl::StrCat(
        "example.com/r", i, "-", std::string(40, 'x'))] = "1";
  }
  grpc::Status etcd = CallEnsure(over_etcd);
  Record("EnsureGang, PodGroup over etcd's size limit", etcd);
  EXPECT_EQ(etcd.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(etcd.error_message(), HasSubstr("too large"));
  // ~3.6 MB: the API server's own 413.
  v1::EnsureGangRequest over_api = Ensure(job, 1);
  for (int i = 0; i < 56000; ++i) {
    (*over_api.mutable_min_resources())[absl::StrCat(
        "example.com/r", i, "-", std::string(40, 'x'))] = "1";
  }
  grpc::Status api = CallEnsure(over_api);
  Record("EnsureGang, PodGroup over the API server's body limit", api);
  EXPECT_EQ(api.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(api.error_message(), HasSubstr("too large"));
  EXPECT_TRUE(kube::IsNotFound(PodGroup("heavy").status()));
}

TEST_P(GangAuthorizationTest, AnApiServerFailureIsUnavailableAndTheRetrySucceeds) {
  const v1::JobRef job = CreateTfJob("blocked");
  // A real 5xx from the real API server: a validating webhook for this namespace's PodGroups
  // that nothing serves, with failurePolicy Fail, makes every PodGroup write a 500
  // ("failed calling webhook"), as an admission webhook that is down does in a cluster.
  const kube::ResourceRef webhooks{"admissionregistration.k8s.io", "v1",
                                   "validatingwebhookconfigurations", false};
  const std::string name = ns() + "-down";
  Object config = {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingWebhookConfiguration"},
      {"metadata", {{"name", name}}},
      {"webhooks",
       Object::array(
           {{{"name", "down.gang-authz.kubedl.io"},
             {"admissionReviewVersions", Object::array({"v1"})},
             {"sideEffects", "None"},
             {"failurePolicy", "Fail"},
             {"timeoutSeconds", 2},
             {"clientConfig", {{"url", "https://127.0.0.1:1/down"}}},
             {"namespaceSelector",
              {{"matchLabels", {{"kubernetes.io/metadata.name", ns()}}}}},
             {"rules", Object::array({{{"apiGroups", Object::array({"scheduling.volcano.sh"})},
                                       {"apiVersions", Object::array({"*"})},
                                       {"resources", Object::array({"podgroups"})},
                                       {"operations", Object::array({"CREATE", "UPDATE"})}}})}}})}};
  ASSERT_TRUE(client().Create(webhooks, "", config).ok());
  // Cluster-scoped: it would outlive the test's namespace if an assertion ended the test early.
  absl::Cleanup remove_webhook = [&] { client().Delete(webhooks, "", name).IgnoreError(); };
  // The API server takes the configuration up within a moment: wait until a write fails.
  absl::Status probe = absl::OkStatus();
  for (int i = 0; i < 100 && probe.ok(); ++i) {
    const std::string probe_name = absl::StrCat("probe-", i);
    probe = client()
                .Create(kVolcanoPodGroups, ns(),
                        {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                         {"kind", "PodGroup"},
                         {"metadata", {{"name", probe_name}}},
                         {"spec", {{"minMember", 1}}}})
                .status();
    if (probe.ok()) {
      ASSERT_TRUE(client().Delete(kVolcanoPodGroups, ns(), probe_name).ok());
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  ASSERT_EQ(kube::HttpCode(probe), 500) << probe;

  grpc::Status down = CallEnsure(Ensure(job, 2));
  Record("EnsureGang while the API server answers 500 (a webhook down)", down);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(down.error_message(), HasSubstr("failed calling webhook"));

  // UNAVAILABLE said: retry with backoff. Once the API server recovers, the same call works.
  ASSERT_TRUE(client().Delete(webhooks, "", name).ok());
  std::move(remove_webhook).Cancel();
  grpc::Status retried = down;
  for (int i = 0; i < 100 && !retried.ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    retried = CallEnsure(Ensure(job, 2));
  }
  EXPECT_TRUE(retried.ok()) << retried.error_message();
  absl::StatusOr<Object> made = PodGroup("blocked");
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ((*made)["spec"]["minMember"], 2);
}

TEST_P(GangAuthorizationTest, TheReconcilersCallsForALiveJobStillWork) {
  // The reconciler's own client, as it calls for a job it reconciles.
  Object manifest = {
      {"apiVersion", "kubeflow.org/v1"},
      {"kind", "TFJob"},
      {"metadata", {{"name", "served"}}},
      {"spec",
       {{"tfReplicaSpecs",
         {{"Worker",
           {{"replicas", 3},
            {"template", {{"spec", {{"containers", Object::array({{{"name", "tensorflow"},
                                                                   {"image", "busybox"}}})}}}}}}}}}}}};
  absl::StatusOr<Object> created = client().Create(kTfJobs, ns(), manifest);
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<api::Job> job = api::ParseJob(api::Json::parse(created->dump()));
  ASSERT_TRUE(job.ok()) << job.status();
  std::unique_ptr<reconciler::GangClient> gangs =
      reconciler::NewGrpcGangClient(process_->address());

  absl::StatusOr<reconciler::GangState> state = gangs->EnsureGang(*job);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->admission, reconciler::GangAdmission::kPending);
  absl::StatusOr<Object> pod_group = PodGroup("served");
  ASSERT_TRUE(pod_group.ok()) << pod_group.status();
  EXPECT_EQ((*pod_group)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kubedl");
  EXPECT_EQ((*pod_group)["metadata"]["labels"]["kubedl.io/gang-job-name"], "served");
  EXPECT_EQ(kube::ControllerUid(*pod_group), job->uid);
  EXPECT_EQ((*pod_group)["spec"]["minMember"], 3);

  // Unchanged: nothing written.
  const std::string version = kube::ResourceVersion(*pod_group);
  ASSERT_TRUE(gangs->EnsureGang(*job).ok());
  EXPECT_EQ(kube::ResourceVersion(*PodGroup("served")), version);
  ASSERT_TRUE(gangs->GetGang(*job).ok());
  ASSERT_TRUE(gangs->BindPod(*job, "Worker", 0, "").ok());

  // A spec change is written.
  api::Job bigger = *job;
  bigger.spec.replica_specs[0].spec.replicas = 5;
  ASSERT_TRUE(gangs->EnsureGang(bigger).ok());
  EXPECT_EQ((*PodGroup("served"))["spec"]["minMember"], 5);

  ASSERT_TRUE(gangs->DeleteGang(*job).ok());
  EXPECT_TRUE(kube::IsNotFound(PodGroup("served").status()));
  EXPECT_TRUE(gangs->DeleteGang(*job).ok()) << "a missing gang counts as deleted";
}

TEST_P(GangAuthorizationTest, AGangLeftByAnEarlierJobOfTheSameNameOrMadeBeforeTheLabelIsKept) {
  // The leftover of an earlier TFJob "again" (deleted, the garbage collector not done yet):
  // ours by label, controlled by a TFJob of that name with another UID. The live job's
  // EnsureGang replaces it.
  const v1::JobRef job = CreateTfJob("again");
  CreateForeignPodGroup(
      "again", 7,
      {{"labels", {{"app.kubernetes.io/managed-by", "kubedl"}, {"kubedl.io/gang-job-name", "again"}}},
       {"ownerReferences", Object::array({{{"apiVersion", "kubeflow.org/v1"},
                                           {"kind", "TFJob"},
                                           {"name", "again"},
                                           {"uid", kMadeUpUid},
                                           {"controller", true}}})}});
  v1::Gang gang;
  grpc::Status replaced = CallEnsure(Ensure(job, 2), &gang);
  Record("EnsureGang over an earlier job's leftover", replaced);
  ASSERT_TRUE(replaced.ok()) << replaced.error_message();
  absl::StatusOr<Object> now = PodGroup("again");
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(kube::ControllerUid(*now), job.uid());
  EXPECT_EQ((*now)["spec"]["minMember"], 2);

  // A gang made by an earlier version of this service (only the gang-job label) is still the
  // job's: it gets the managed-by label with its next write.
  const v1::JobRef older = CreateTfJob("older");
  CreateForeignPodGroup(
      "older", 2,
      {{"labels", {{"kubedl.io/gang-job-name", "older"}}},
       {"ownerReferences", Object::array({{{"apiVersion", "kubeflow.org/v1"},
                                           {"kind", "TFJob"},
                                           {"name", "older"},
                                           {"uid", older.uid()},
                                           {"controller", true}}})}});
  grpc::Status kept = CallEnsure(Ensure(older, 3));
  ASSERT_TRUE(kept.ok()) << kept.error_message();
  absl::StatusOr<Object> adopted = PodGroup("older");
  ASSERT_TRUE(adopted.ok());
  EXPECT_EQ((*adopted)["spec"]["minMember"], 3);
  EXPECT_EQ((*adopted)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kubedl");
}

// The chart's RBAC for the service, from `helm template`, as the only rights of the service's
// ServiceAccount: enough for the live-job check; without `get` on the job kinds the call is
// FAILED_PRECONDITION naming the RBAC (retry much later), not PERMISSION_DENIED or UNAVAILABLE.
class GangChartRbacTest : public kubedl::testing::ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "gang-rbac"; }
  void TearDown() override {
    if (!release_.empty()) {
      Run(Kubectl() + " delete clusterrole,clusterrolebinding " + release_ +
          "-gang-scheduler --ignore-not-found");
    }
    kubedl::testing::ClusterTest::TearDown();
  }

  static std::string Env(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : fallback;
  }
  static std::string Kubectl() { return Env("KUBECTL", "kubectl"); }
  // Runs a shell command; its exit code and stdout (stderr appended).
  static std::pair<int, std::string> Run(const std::string& command) {
    std::string output;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return {-1, ""};
    char buffer[4096];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  }

  std::string release_;
};

TEST_F(GangChartRbacTest, TheChartsRbacIsEnoughAndWithoutGetOnJobsTheAnswerIsFailedPrecondition) {
  // A release name with "kubedl" in it is the chart's full name: <release>-gang-scheduler.
  release_ = "kubedl-" + ns().substr(ns().size() - 6);
  const std::string sa = release_ + "-gang-scheduler";
  const std::string chart = Env("KUBEDL_REPO", ".") + "/charts/kubedl";
  auto [rendered, rbac] = Run(absl::StrCat(
      Env("HELM", "helm"), " template ", release_, " ", chart, " --namespace ", ns(),
      " --set gangScheduler.enabled=true --show-only templates/rbac.yaml"
      " | awk '/^# The gang scheduler:/{f=1} f' | ", Kubectl(), " apply -f -"));
  ASSERT_EQ(rendered, 0) << rbac;
  ASSERT_EQ(Run(absl::StrCat(Kubectl(), " -n ", ns(), " create serviceaccount ", sa)).first, 0);
  auto [made, token] =
      Run(absl::StrCat(Kubectl(), " -n ", ns(), " create token ", sa, " 2>/dev/null"));
  ASSERT_EQ(made, 0) << token;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  // The test cluster's kubeconfig with the ServiceAccount's token as its user.
  const std::string kubeconfig = ::testing::TempDir() + release_ + ".kubeconfig";
  const std::string as_sa = absl::StrCat(Kubectl(), " --kubeconfig ", kubeconfig);
  ASSERT_EQ(Run(absl::StrCat(Kubectl(), " config view --raw --flatten --minify > ", kubeconfig,
                             " && ", as_sa,
                             " config set-credentials ", sa, " --token=", token, " && ", as_sa,
                             " config set-context --current --user=", sa))
                .first,
            0);

  testing::GangSchedulerProcess process(KUBEDL_GANG_SCHEDULER_BINARY, "volcano",
                                        {"--kubeconfig=" + kubeconfig});
  ASSERT_TRUE(process.Start());
  auto stub = v1::GangScheduler::NewStub(
      grpc::CreateChannel(process.address(), grpc::InsecureChannelCredentials()));
  auto ensure = [&](const std::string& name) {
    Object manifest = {
        {"apiVersion", "kubeflow.org/v1"},
        {"kind", "TFJob"},
        {"metadata", {{"name", name}}},
        {"spec", {{"tfReplicaSpecs", {{"Worker", {{"replicas", 1},
            {"template", {{"spec", {{"containers", Object::array({{{"name", "tensorflow"},
                                                                   {"image", "busybox"}}})}}}}}}}}}}}};
    absl::StatusOr<Object> created = client().Create(kTfJobs, ns(), manifest);
    EXPECT_TRUE(created.ok()) << created.status();
    v1::EnsureGangRequest request;
    v1::JobRef* job = request.mutable_job();
    job->set_api_version("kubeflow.org/v1");
    job->set_kind("TFJob");
    job->set_namespace_(ns());
    job->set_name(name);
    job->set_uid(created.ok() ? kube::Uid(*created) : "");
    request.set_min_member(1);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::EnsureGangResponse response;
    return stub->EnsureGang(&context, request, &response);
  };
  grpc::Status allowed = ensure("with-rbac");
  Record("EnsureGang with the chart's RBAC", allowed);
  ASSERT_TRUE(allowed.ok()) << allowed.error_message();

  // The chart's job rules removed: the PodGroup rules stay, the live-job check is forbidden.
  auto [listed, rules] = Run(absl::StrCat(Kubectl(), " get clusterrole ", sa,
                                          " -o jsonpath='{.rules[*].apiGroups[0]}'"));
  ASSERT_EQ(listed, 0) << rules;
  ASSERT_EQ(rules, "scheduling.volcano.sh scheduling.k8s.io kubeflow.org xdl.kubedl.io");
  ASSERT_EQ(Run(absl::StrCat(Kubectl(), " patch clusterrole ", sa, " --type=json -p "
                             "'[{\"op\":\"remove\",\"path\":\"/rules/3\"},"
                             "{\"op\":\"remove\",\"path\":\"/rules/2\"}]'"))
                .first,
            0);
  grpc::Status forbidden;
  int n = 0;
  EXPECT_TRUE(kubedl::testing::Eventually([&] {
    forbidden = ensure(absl::StrCat("without-rbac-", n++));
    return forbidden.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
  }, absl::Seconds(15))) << CodeName(forbidden.error_code()) << " " << forbidden.error_message();
  Record("EnsureGang without get on the job kinds", forbidden);
  EXPECT_THAT(forbidden.error_message(), HasSubstr("RBAC"));
}

INSTANTIATE_TEST_SUITE_P(PodGroupCache, GangAuthorizationTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "cached" : "uncached");
                         });

}  // namespace
}  // namespace kubedl::gang
