// PodGroupControl against a fake of our kube::Client interface: the paths the real API server
// cannot be made to take on demand in an integration test (a missing CRD, conflicts, a stale
// PodGroup of an earlier job), and how many API calls the live-job check costs.
#include "pod_group_control.h"

#include <map>
#include <string>

#include "backend_registry.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"

namespace kubedl::gang {
namespace {

using nlohmann::json;

// PodGroups (and PriorityClasses) in memory, with resourceVersions and UIDs like the API
// server's; `served` false answers like a server without the CRD.
class FakeClient final : public kube::Client {
 public:
  absl::StatusOr<kube::Object> Get(const kube::ResourceRef& ref, const std::string& ns,
                                   const std::string& name) override {
    ++gets;
    if (!Served(ref)) return NotServed();
    auto it = objects_.find(Key(ref, ns, name));
    if (it == objects_.end()) return kube::MakeApiError(404, "NotFound", name + " not found");
    return it->second;
  }
  absl::StatusOr<kube::ObjectList> List(const kube::ResourceRef&, const std::string&,
                                        const kube::ListOptions&) override {
    return absl::UnimplementedError("List");
  }
  absl::StatusOr<kube::Object> Create(const kube::ResourceRef& ref, const std::string& ns,
                                      const kube::Object& obj) override {
    ++creates;
    if (!Served(ref)) return NotServed();
    const std::string key = Key(ref, ns, kube::Name(obj));
    if (objects_.count(key)) return kube::MakeApiError(409, "AlreadyExists", "exists");
    kube::Object stored = obj;
    stored["metadata"]["uid"] = "pg-uid-" + std::to_string(++uid_counter_);
    stored["metadata"]["resourceVersion"] = std::to_string(++version_);
    return objects_[key] = stored;
  }
  absl::StatusOr<kube::Object> Update(const kube::ResourceRef& ref, const std::string& ns,
                                      const kube::Object& obj) override {
    ++updates;
    const std::string key = Key(ref, ns, kube::Name(obj));
    auto it = objects_.find(key);
    if (it == objects_.end()) return kube::MakeApiError(404, "NotFound", "gone");
    if (conflicts_left > 0 || kube::ResourceVersion(obj) != kube::ResourceVersion(it->second)) {
      --conflicts_left;
      // Someone else wrote in between.
      it->second["metadata"]["resourceVersion"] = std::to_string(++version_);
      return kube::MakeApiError(409, "Conflict", "the object has been modified");
    }
    kube::Object stored = obj;
    stored["metadata"]["resourceVersion"] = std::to_string(++version_);
    return it->second = stored;
  }
  absl::StatusOr<kube::Object> UpdateStatus(const kube::ResourceRef&, const std::string&,
                                            const kube::Object&) override {
    return absl::UnimplementedError("UpdateStatus");
  }
  absl::StatusOr<kube::Object> Patch(const kube::ResourceRef&, const std::string&,
                                     const std::string&, kube::PatchType, const kube::Object&,
                                     const kube::PatchOptions&) override {
    return absl::UnimplementedError("Patch");
  }
  absl::Status Delete(const kube::ResourceRef& ref, const std::string& ns,
                      const std::string& name, const kube::DeleteOptions& options) override {
    ++deletes;
    if (!Served(ref)) return NotServed();
    auto it = objects_.find(Key(ref, ns, name));
    if (it == objects_.end()) return kube::MakeApiError(404, "NotFound", "not found");
    if (!options.precondition_uid.empty() && options.precondition_uid != kube::Uid(it->second)) {
      return kube::MakeApiError(409, "Conflict", "Precondition failed: UID");
    }
    objects_.erase(it);
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<kube::WatchStream>> Watch(const kube::ResourceRef&,
                                                           const std::string&,
                                                           const kube::WatchOptions&) override {
    return absl::UnimplementedError("Watch");
  }
  absl::StatusOr<kube::Object> GetPath(const std::string& path) override {
    if (path == "/apis/scheduling.volcano.sh/v1beta1" && served) {
      return json{{"resources", json::array({{{"name", "podgroups"}}})}};
    }
    return kube::MakeApiError(404, "NotFound", "the server could not find the requested resource");
  }
  const std::string& DefaultNamespace() const override { return default_namespace_; }

  // Puts an object in place as if someone else made it.
  void Put(const kube::ResourceRef& ref, kube::Object obj) {
    obj["metadata"]["resourceVersion"] = std::to_string(++version_);
    objects_[Key(ref, kube::Namespace(obj), kube::Name(obj))] = obj;
  }
  std::optional<kube::Object> Find(const kube::ResourceRef& ref, const std::string& ns,
                                   const std::string& name) {
    auto it = objects_.find(Key(ref, ns, name));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }

  bool served = true;
  int conflicts_left = 0;
  int gets = 0, creates = 0, updates = 0, deletes = 0;

 private:
  static std::string Key(const kube::ResourceRef& ref, const std::string& ns,
                         const std::string& name) {
    return ref.group + "/" + ref.resource + "/" + ns + "/" + name;
  }
  bool Served(const kube::ResourceRef& ref) const {
    return served || ref.resource != "podgroups";
  }
  static absl::Status NotServed() {
    return kube::MakeApiError(404, "NotFound", "the server could not find the requested resource");
  }
  std::map<std::string, kube::Object> objects_;
  int version_ = 0;
  int uid_counter_ = 0;
  std::string default_namespace_ = "default";
};

const kube::ResourceRef& TfJobRef() {
  static const kube::ResourceRef ref{"kubeflow.org", "v1", "tfjobs", true};
  return ref;
}

// The controller owner reference EnsureGang writes for the request's job, with `uid`.
json OwnerReference(const std::string& uid) {
  return {{"apiVersion", "kubeflow.org/v1"}, {"kind", "TFJob"}, {"name", "mnist"},
          {"uid", uid}, {"controller", true}};
}

const kube::ResourceRef& PriorityClassRef() {
  static const kube::ResourceRef ref{"scheduling.k8s.io", "v1", "priorityclasses", false};
  return ref;
}

class PodGroupControlTest : public ::testing::Test {
 protected:
  PodGroupControlTest()
      : backend_(std::move(MakeBackend("volcano", {})).value()), control_(*backend_, client_) {
    // The live job every request names: EnsureGang writes nothing for a job that is not there.
    client_.Put(TfJobRef(), {{"apiVersion", "kubeflow.org/v1"},
                             {"kind", "TFJob"},
                             {"metadata", {{"name", "mnist"}, {"namespace", "team"},
                                           {"uid", "job-uid-1"}}}});
  }

  static v1::EnsureGangRequest Request(int min_member = 3) {
    v1::EnsureGangRequest request;
    v1::JobRef* job = request.mutable_job();
    job->set_api_version("kubeflow.org/v1");
    job->set_kind("TFJob");
    job->set_namespace_("team");
    job->set_name("mnist");
    job->set_uid("job-uid-1");
    request.set_min_member(min_member);
    v1::ReplicaResources* worker = request.add_replicas();
    worker->set_replica_type("Worker");
    worker->set_replicas(min_member);
    (*worker->mutable_requests())["cpu"] = "1";
    return request;
  }
  const kube::ResourceRef& Ref() const { return backend_->PodGroupResource(); }

  FakeClient client_;
  std::unique_ptr<GangBackend> backend_;
  PodGroupControl control_;
};

TEST_F(PodGroupControlTest, CreatesThePodGroupOwnedByTheJobWithLabelAndSpec) {
  v1::Gang gang;
  ASSERT_TRUE(control_.Ensure(Request(), gang).ok());
  EXPECT_EQ(gang.phase(), v1::Gang::PENDING);
  EXPECT_EQ(gang.min_member(), 3);
  std::optional<kube::Object> pod_group = client_.Find(Ref(), "team", "mnist");
  ASSERT_TRUE(pod_group.has_value());
  EXPECT_EQ((*pod_group)["apiVersion"], "scheduling.volcano.sh/v1beta1");
  EXPECT_EQ((*pod_group)["kind"], "PodGroup");
  EXPECT_EQ((*pod_group)["metadata"]["labels"][kGangJobLabel], "mnist");
  EXPECT_EQ((*pod_group)["metadata"]["labels"][kManagedByLabel], kManagedByValue);
  const json& owner = (*pod_group)["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], "job-uid-1");
  EXPECT_EQ(owner["kind"], "TFJob");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ((*pod_group)["spec"]["minResources"]["cpu"], "3");
}

TEST_F(PodGroupControlTest, ASecondEnsureWithTheSameRequestWritesNothing) {
  v1::Gang gang;
  ASSERT_TRUE(control_.Ensure(Request(), gang).ok());
  const int writes = client_.creates + client_.updates;
  const int gets = client_.gets;
  ASSERT_TRUE(control_.Ensure(Request(), gang).ok());
  EXPECT_EQ(client_.creates + client_.updates, writes);
  EXPECT_EQ(client_.gets, gets + 1) << "the PodGroup only: an unchanged gang reads no job";
}

TEST_F(PodGroupControlTest, AWriteReadsTheJobOnceAndNothingIsWrittenForAJobThatIsNotLive) {
  v1::Gang gang;
  int gets = client_.gets;
  ASSERT_TRUE(control_.Ensure(Request(3), gang).ok());
  EXPECT_EQ(client_.gets, gets + 2) << "the PodGroup, then the job before the Create";
  gets = client_.gets;
  ASSERT_TRUE(control_.Ensure(Request(5), gang).ok());
  EXPECT_EQ(client_.gets, gets + 2) << "the PodGroup, then the job before the Update";

  v1::EnsureGangRequest other_uid = Request(9);
  other_uid.mutable_job()->set_uid("job-uid-2");
  EXPECT_EQ(control_.Ensure(other_uid, gang).code(), absl::StatusCode::kPermissionDenied);
  v1::EnsureGangRequest no_job = Request(9);
  no_job.mutable_job()->set_name("nobody");
  EXPECT_EQ(control_.Ensure(no_job, gang).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(client_.Find(Ref(), "team", "nobody").has_value());
  EXPECT_EQ((*client_.Find(Ref(), "team", "mnist"))["spec"]["minMember"], 5);
}

TEST_F(PodGroupControlTest, AMissingCrdIsAFailedPreconditionNamingIt) {
  client_.served = false;
  v1::Gang gang;
  absl::Status status = control_.Ensure(Request(), gang);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("podgroups.scheduling.volcano.sh/v1beta1"), std::string::npos)
      << status.message();
  v1::GetGangRequest get;
  *get.mutable_job() = Request().job();
  EXPECT_EQ(control_.Get(get, gang).code(), absl::StatusCode::kFailedPrecondition);
  v1::DeleteGangRequest del;
  *del.mutable_job() = Request().job();
  EXPECT_TRUE(control_.Delete(del).ok()) << "nothing to delete where nothing can exist";
}

TEST_F(PodGroupControlTest, UpdateConflictsAreRetriedAgainstAFreshRead) {
  v1::Gang gang;
  ASSERT_TRUE(control_.Ensure(Request(3), gang).ok());
  client_.conflicts_left = 2;
  ASSERT_TRUE(control_.Ensure(Request(5), gang).ok());
  EXPECT_EQ(gang.min_member(), 5);
  EXPECT_EQ((*client_.Find(Ref(), "team", "mnist"))["spec"]["minMember"], 5);
}

TEST_F(PodGroupControlTest, ConflictsThatNeverStopEndInAbortedSoTheCallerRetries) {
  v1::Gang gang;
  ASSERT_TRUE(control_.Ensure(Request(3), gang).ok());
  client_.conflicts_left = 100;
  EXPECT_EQ(control_.Ensure(Request(5), gang).code(), absl::StatusCode::kAborted);
}

TEST_F(PodGroupControlTest, APodGroupOfAnEarlierJobWithTheSameNameIsReplaced) {
  client_.Put(Ref(), {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                      {"kind", "PodGroup"},
                      {"metadata",
                       {{"name", "mnist"},
                        {"namespace", "team"},
                        {"uid", "old-pg"},
                        {"labels", {{kManagedByLabel, kManagedByValue}}},
                        {"ownerReferences", json::array({OwnerReference("old-job")})}}},
                      {"spec", {{"minMember", 9}}}});
  v1::GetGangRequest get;
  *get.mutable_job() = Request().job();
  v1::Gang gang;
  ASSERT_TRUE(control_.Get(get, gang).ok());
  EXPECT_EQ(gang.phase(), v1::Gang::NOT_FOUND) << "another job's gang is not this job's";
  ASSERT_TRUE(control_.Ensure(Request(3), gang).ok());
  std::optional<kube::Object> pod_group = client_.Find(Ref(), "team", "mnist");
  ASSERT_TRUE(pod_group.has_value());
  EXPECT_EQ(kube::ControllerUid(*pod_group), "job-uid-1");
  EXPECT_EQ((*pod_group)["spec"]["minMember"], 3);
}

TEST_F(PodGroupControlTest, DeleteOfANewerJobsPodGroupIsRefusedAndLeavesItAlone) {
  v1::Gang gang;
  ASSERT_TRUE(control_.Ensure(Request(), gang).ok());
  v1::DeleteGangRequest late;
  *late.mutable_job() = Request().job();
  late.mutable_job()->set_uid("an-earlier-job");
  EXPECT_EQ(control_.Delete(late).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(client_.Find(Ref(), "team", "mnist").has_value());
  v1::DeleteGangRequest no_uid = late;
  no_uid.mutable_job()->clear_uid();
  EXPECT_EQ(control_.Delete(no_uid).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(client_.Find(Ref(), "team", "mnist").has_value());
  v1::DeleteGangRequest own;
  *own.mutable_job() = Request().job();
  ASSERT_TRUE(control_.Delete(own).ok());
  EXPECT_FALSE(client_.Find(Ref(), "team", "mnist").has_value());
  EXPECT_TRUE(control_.Delete(own).ok()) << "a missing gang counts as deleted";
}

TEST_F(PodGroupControlTest, APodGroupSomeoneElseMadeIsRefusedAndLeftAlone) {
  client_.Put(Ref(), {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                      {"kind", "PodGroup"},
                      {"metadata", {{"name", "mnist"}, {"namespace", "team"}, {"uid", "x"}}},
                      {"spec", {{"minMember", 1}, {"queue", "assigned"}}}});
  v1::Gang gang;
  EXPECT_EQ(control_.Ensure(Request(3), gang).code(), absl::StatusCode::kPermissionDenied);
  v1::DeleteGangRequest del;
  *del.mutable_job() = Request().job();
  EXPECT_EQ(control_.Delete(del).code(), absl::StatusCode::kPermissionDenied);
  v1::GetGangRequest get;
  *get.mutable_job() = Request().job();
  ASSERT_TRUE(control_.Get(get, gang).ok());
  EXPECT_EQ(gang.phase(), v1::Gang::NOT_FOUND) << "not this job's gang";
  std::optional<kube::Object> pod_group = client_.Find(Ref(), "team", "mnist");
  ASSERT_TRUE(pod_group.has_value());
  EXPECT_EQ((*pod_group)["spec"]["minMember"], 1);
  EXPECT_FALSE((*pod_group)["metadata"].contains("labels"));
  EXPECT_EQ(client_.updates + client_.deletes, 0);
}

TEST_F(PodGroupControlTest, OurPodGroupGetsOurSpecAndTheManagedByLabelButKeepsItsQueue) {
  // Made by an earlier version of the service: the gang-job label only.
  client_.Put(Ref(), {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                      {"kind", "PodGroup"},
                      {"metadata", {{"name", "mnist"}, {"namespace", "team"}, {"uid", "x"},
                                    {"labels", {{kGangJobLabel, "mnist"}}},
                                    {"ownerReferences", json::array({OwnerReference("job-uid-1")})}}},
                      {"spec", {{"minMember", 1}, {"queue", "assigned"}}},
                      {"status", {{"phase", "Running"}}}});
  v1::Gang gang;
  ASSERT_TRUE(control_.Ensure(Request(3), gang).ok());
  EXPECT_EQ(gang.phase(), v1::Gang::ADMITTED);
  EXPECT_EQ(gang.backend_phase(), "Running");
  std::optional<kube::Object> pod_group = client_.Find(Ref(), "team", "mnist");
  EXPECT_EQ((*pod_group)["spec"]["queue"], "assigned");
  EXPECT_EQ((*pod_group)["spec"]["minMember"], 3);
  EXPECT_EQ((*pod_group)["metadata"]["labels"][kGangJobLabel], "mnist");
  EXPECT_EQ((*pod_group)["metadata"]["labels"][kManagedByLabel], kManagedByValue);
}

TEST_F(PodGroupControlTest, MinResourcesTakeReplicaTypesByPriorityClassValue) {
  client_.Put(PriorityClassRef(), {{"metadata", {{"name", "high"}}}, {"value", 1000}});
  v1::EnsureGangRequest request = Request(2);
  request.clear_replicas();
  v1::ReplicaResources* worker = request.add_replicas();
  worker->set_replica_type("Worker");
  worker->set_replicas(4);
  (*worker->mutable_requests())["cpu"] = "1";
  v1::ReplicaResources* master = request.add_replicas();
  master->set_replica_type("Master");
  master->set_replicas(1);
  master->set_priority_class_name("high");
  (*master->mutable_requests())["cpu"] = "8";
  v1::Gang gang;
  ASSERT_TRUE(control_.Ensure(request, gang).ok());
  // Master (priority 1000) first, then one worker.
  EXPECT_EQ((*client_.Find(Ref(), "team", "mnist"))["spec"]["minResources"]["cpu"], "9");
}

TEST_F(PodGroupControlTest, BadRequestsAreInvalidArgumentsAndWriteNothing) {
  v1::Gang gang;
  v1::EnsureGangRequest no_uid = Request();
  no_uid.mutable_job()->clear_uid();
  EXPECT_EQ(control_.Ensure(no_uid, gang).code(), absl::StatusCode::kInvalidArgument);
  v1::EnsureGangRequest zero = Request();
  zero.set_min_member(0);
  EXPECT_EQ(control_.Ensure(zero, gang).code(), absl::StatusCode::kInvalidArgument);
  v1::EnsureGangRequest bad_quantity = Request();
  (*bad_quantity.mutable_min_resources())["memory"] = "12 GB";
  absl::Status status = control_.Ensure(bad_quantity, gang);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("min_resources.memory"), std::string::npos);
  v1::EnsureGangRequest long_name = Request();
  long_name.mutable_job()->set_name(std::string(254, 'a'));
  EXPECT_EQ(control_.Ensure(long_name, gang).code(), absl::StatusCode::kInvalidArgument);
  v1::EnsureGangRequest other_kind = Request();
  other_kind.mutable_job()->set_kind("ConfigMap");
  other_kind.mutable_job()->set_api_version("v1");
  EXPECT_EQ(control_.Ensure(other_kind, gang).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_.creates + client_.updates, 0);
}

}  // namespace
}  // namespace kubedl::gang
