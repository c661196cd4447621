// REST verbs against the real API server: pods, a CRD with the status subresource, conflicts,
// typed errors, paging.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kubedl/kube/discovery.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/testing/cluster.h"

namespace kubedl::kube {
namespace {

using testing::ClusterTest;
using testing::Eventually;
using testing::MakePod;

class RestTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-rest"; }
};

TEST_F(RestTest, PodCreateGetListUpdatePatchDelete) {
  const auto& pods = resources::Pods();
  auto created = client().Create(pods, ns(), MakePod("p1", {{"app", "a"}}));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(Namespace(*created), ns());
  EXPECT_FALSE(Uid(*created).empty());
  ASSERT_TRUE(client().Create(pods, ns(), MakePod("p2", {{"app", "b"}})).ok());

  auto got = client().Get(pods, ns(), "p1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Uid(*got), Uid(*created));

  ListOptions by_label;
  by_label.label_selector = "app=b";
  auto list = client().List(pods, ns(), by_label);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(Name(list->items[0]), "p2");
  EXPECT_FALSE(list->resource_version.empty());

  // Update (PUT with resourceVersion). The scheduler and KWOK write the pod too, so a
  // Conflict here is expected: re-read and retry, as Aborted says.
  absl::StatusOr<Object> updated;
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto fresh = client().Get(pods, ns(), "p1");
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    Object pod = *fresh;
    pod["metadata"]["labels"]["tier"] = "web";
    updated = client().Update(pods, ns(), pod);
    if (!IsConflict(updated.status())) break;
  }
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ((*updated)["metadata"]["labels"]["tier"], "web");
  EXPECT_NE(ResourceVersion(*updated), ResourceVersion(*got));

  // The four patch types.
  auto merged = client().Patch(pods, ns(), "p1", PatchType::kMerge,
                               {{"metadata", {{"annotations", {{"m", "1"}}}}}});
  ASSERT_TRUE(merged.ok()) << merged.status();
  auto json_patched = client().Patch(pods, ns(), "p1", PatchType::kJson,
                                     Object::parse(R"([{"op":"add",
                                       "path":"/metadata/annotations/j","value":"2"}])"));
  ASSERT_TRUE(json_patched.ok()) << json_patched.status();
  // A JSON Patch guarded by a test of the uid (the reconciler's status write): refused with 422
  // when the object under that name is another one, and nothing changes.
  auto guarded = client().Patch(pods, ns(), "p1", PatchType::kJson,
                                Object::array({{{"op", "test"}, {"path", "/metadata/uid"},
                                                {"value", "not-this-pods-uid"}},
                                               {{"op", "add"}, {"path", "/metadata/annotations/g"},
                                                {"value", "x"}}}));
  EXPECT_TRUE(IsInvalid(guarded.status())) << guarded.status();
  auto strategic = client().Patch(pods, ns(), "p1", PatchType::kStrategicMerge,
                                  {{"metadata", {{"labels", {{"s", "3"}}}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status();
  PatchOptions apply_options;
  apply_options.field_manager = "kubedl-test";
  apply_options.force = true;
  auto applied = client().Patch(
      pods, ns(), "p1", PatchType::kApply,
      {{"apiVersion", "v1"}, {"kind", "Pod"},
       {"metadata", {{"name", "p1"}, {"annotations", {{"applied", "4"}}}}}},
      apply_options);
  ASSERT_TRUE(applied.ok()) << applied.status();
  auto anns = (*applied)["metadata"]["annotations"];
  EXPECT_EQ(anns["m"], "1");
  EXPECT_EQ(anns["j"], "2");
  EXPECT_EQ(anns["applied"], "4");
  EXPECT_FALSE(anns.contains("g"));
  EXPECT_EQ((*applied)["metadata"]["labels"]["s"], "3");

  // Status subresource of a built-in type (merge patch: no read-modify-write race).
  PatchOptions status_options;
  status_options.subresource = "status";
  auto with_status = client().Patch(
      pods, ns(), "p1", PatchType::kMerge,
      {{"status", {{"conditions", {{{"type", "KubedlTest"}, {"status", "True"}}}}}}},
      status_options);
  ASSERT_TRUE(with_status.ok()) << with_status.status();
  bool has_condition = false;
  for (const auto& c : (*with_status)["status"]["conditions"]) {
    if (c.value("type", "") == "KubedlTest") has_condition = true;
  }
  EXPECT_TRUE(has_condition);

  // Delete with a failing precondition, then for real.
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  absl::Status precondition = client().Delete(pods, ns(), "p1", wrong_uid);
  EXPECT_TRUE(IsConflict(precondition)) << precondition;
  DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(client().Delete(pods, ns(), "p1", now).ok());
  EXPECT_TRUE(Eventually([&] { return kube::IsNotFound(client().Get(pods, ns(), "p1").status()); }));
  absl::Status again = client().Delete(pods, ns(), "p1", now);
  EXPECT_TRUE(kube::IsNotFound(again)) << again;
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
}

TEST_F(RestTest, UpdateWithStaleResourceVersionIsConflict) {
  const auto& cms = resources::ConfigMaps();
  Object cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
               {"metadata", {{"name", "c"}}}, {"data", {{"k", "0"}}}};
  auto v1 = client().Create(cms, ns(), cm);
  ASSERT_TRUE(v1.ok()) << v1.status();
  Object first = *v1;
  first["data"]["k"] = "1";
  ASSERT_TRUE(client().Update(cms, ns(), first).ok());
  Object stale = *v1;  // still carries the first resourceVersion
  stale["data"]["k"] = "2";
  auto conflict = client().Update(cms, ns(), stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(IsConflict(conflict.status())) << conflict.status();
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(conflict.status().message().find("modified"), absl::string_view::npos);
}

TEST_F(RestTest, TypedErrorsForAlreadyExistsAndInvalidWithFieldCauses) {
  const auto& pods = resources::Pods();
  ASSERT_TRUE(client().Create(pods, ns(), MakePod("dup")).ok());
  auto dup = client().Create(pods, ns(), MakePod("dup"));
  EXPECT_TRUE(kube::IsAlreadyExists(dup.status())) << dup.status();

  Object invalid = MakePod("bad");
  invalid["spec"]["containers"][0].erase("image");
  auto rejected = client().Create(pods, ns(), invalid);
  ASSERT_TRUE(IsInvalid(rejected.status())) << rejected.status();
  bool image_cause = false;
  for (const auto& cause : Causes(rejected.status())) {
    if (cause.field == "spec.containers[0].image") image_cause = true;
  }
  EXPECT_TRUE(image_cause) << rejected.status();
  EXPECT_TRUE(kube::IsNotFound(client().Get(pods, ns(), "absent").status()));
}

TEST_F(RestTest, CreateStatusOnlyCreatesAndReportsTheSameErrorsAsCreate) {
  const auto& pods = resources::Pods();
  ASSERT_TRUE(client().CreateStatusOnly(pods, ns(), MakePod("quiet")).ok());
  auto got = client().Get(pods, ns(), "quiet");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(Uid(*got).empty());

  absl::Status dup = client().CreateStatusOnly(pods, ns(), MakePod("quiet"));
  EXPECT_TRUE(kube::IsAlreadyExists(dup)) << dup;
  Object invalid = MakePod("bad");
  invalid["spec"]["containers"][0].erase("image");
  absl::Status rejected = client().CreateStatusOnly(pods, ns(), invalid);
  ASSERT_TRUE(IsInvalid(rejected)) << rejected;
  bool image_cause = false;
  for (const auto& cause : Causes(rejected)) {
    if (cause.field == "spec.containers[0].image") image_cause = true;
  }
  EXPECT_TRUE(image_cause) << rejected;
}

TEST_F(RestTest, PagingThroughTwoThousandObjects) {
  const auto& cms = resources::ConfigMaps();
  constexpr int kCount = 2000;
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 16; ++t) {
    writers.emplace_back([&] {
      for (int i = next++; i < kCount; i = next++) {
        Object cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                     {"metadata", {{"name", absl::StrCat("page-", i)},
                                   {"labels", {{"paged", "yes"}}}}}};
        if (!client().Create(cms, ns(), cm).ok()) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_EQ(failures.load(), 0);

  ListOptions options;
  options.limit = 150;
  options.label_selector = "paged=yes";
  std::set<std::string> names;
  int pages = 0;
  std::string snapshot_rv;
  while (true) {
    auto page = client().List(cms, ns(), options);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    EXPECT_LE(page->items.size(), 150u);
    for (const auto& item : page->items) names.insert(Name(item));
    if (snapshot_rv.empty()) snapshot_rv = page->resource_version;
    EXPECT_EQ(page->resource_version, snapshot_rv);  // one consistent snapshot
    if (page->continue_token.empty()) break;
    options.continue_token = page->continue_token;
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(pages, (kCount + 149) / 150);

  auto all = ListAll(client(), cms, ns(), {.label_selector = "paged=yes", .limit = 500});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->items.size(), static_cast<size_t>(kCount));
}

// A namespaced CRD with the status subresource, unique per run (CRDs are cluster-wide).
class CrdTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-crd"; }
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    plural_ = testing::RandomName("widgets");
    plural_.erase(std::remove(plural_.begin(), plural_.end(), '-'), plural_.end());
    kind_ = "Widget" + plural_.substr(7);
    kind_[6] = static_cast<char>(std::toupper(kind_[6]));
    ref_ = ResourceRef{"test.kubedl.io", "v1", plural_, true};
    Object crd = Object::parse(R"({"apiVersion":"apiextensions.k8s.io/v1",
      "kind":"CustomResourceDefinition","spec":{"group":"test.kubedl.io","scope":"Namespaced",
      "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
      "schema":{"openAPIV3Schema":{"type":"object","properties":{
        "spec":{"type":"object","properties":{"size":{"type":"integer"}}},
        "status":{"type":"object","properties":{"phase":{"type":"string"}}}}}}}]}})");
    crd["metadata"]["name"] = plural_ + ".test.kubedl.io";
    crd["spec"]["names"] = {{"plural", plural_}, {"singular", plural_.substr(0, plural_.size())},
                            {"kind", kind_}, {"listKind", kind_ + "List"}};
    crd["spec"]["names"]["singular"] = "w" + plural_.substr(7);
    auto created = client().Create(resources::CustomResourceDefinitions(), "", crd);
    ASSERT_TRUE(created.ok()) << created.status();
    crd_created_ = true;
    auto discovery = NewDiscovery(client(), absl::ZeroDuration());
    ASSERT_TRUE(Eventually([&] {
      auto served = discovery->IsServed("test.kubedl.io", "v1", kind_);
      return served.ok() && *served;
    }));
  }
  void TearDown() override {
    if (crd_created_) {
      (void)client().Delete(resources::CustomResourceDefinitions(), "",
                            plural_ + ".test.kubedl.io");
    }
    ClusterTest::TearDown();
  }
  std::string plural_, kind_;
  ResourceRef ref_;
  bool crd_created_ = false;
};

TEST_F(CrdTest, CustomResourceCrudWithStatusSubresource) {
  Object widget = {{"apiVersion", "test.kubedl.io/v1"}, {"kind", kind_},
                   {"metadata", {{"name", "w1"}}}, {"spec", {{"size", 1}}},
                   {"status", {{"phase", "ignored-on-create"}}}};
  auto created = client().Create(ref_, ns(), widget);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->contains("status") && (*created)["status"].contains("phase"))
      << "status is ignored on the main resource when the subresource is on";

  Object with_status = *created;
  with_status["status"] = {{"phase", "Running"}};
  auto status_written = client().UpdateStatus(ref_, ns(), with_status);
  ASSERT_TRUE(status_written.ok()) << status_written.status();
  EXPECT_EQ((*status_written)["status"]["phase"], "Running");

  // Writing the main resource keeps the status; writing spec through /status is ignored.
  Object spec_change = *status_written;
  spec_change["spec"]["size"] = 3;
  spec_change["status"]["phase"] = "Hacked";
  auto updated = client().Update(ref_, ns(), spec_change);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ((*updated)["spec"]["size"], 3);
  EXPECT_EQ((*updated)["status"]["phase"], "Running");

  PatchOptions status_patch;
  status_patch.subresource = "status";
  auto patched = client().Patch(ref_, ns(), "w1", PatchType::kMerge,
                                {{"status", {{"phase", "Succeeded"}}}, {"spec", {{"size", 9}}}},
                                status_patch);
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["status"]["phase"], "Succeeded");
  EXPECT_EQ((*patched)["spec"]["size"], 3);

  // Strategic merge patch is for built-in types only.
  auto strategic = client().Patch(ref_, ns(), "w1", PatchType::kStrategicMerge,
                                  {{"spec", {{"size", 4}}}});
  EXPECT_TRUE(IsUnsupportedMediaType(strategic.status())) << strategic.status();

  ListOptions all;
  auto list = client().List(ref_, ns(), all);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->items.size(), 1u);

  ASSERT_TRUE(client().Delete(ref_, ns(), "w1").ok());
  EXPECT_TRUE(kube::IsNotFound(client().Get(ref_, ns(), "w1").status()));
}

}  // namespace
}  // namespace kubedl::kube
