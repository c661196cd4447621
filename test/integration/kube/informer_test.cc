// An informer's cache against the real API server under concurrent random writes.

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/informer.h"
#include "kubedl/testing/cluster.h"

namespace kubedl::kube {
namespace {

using testing::ClusterTest;
using testing::Eventually;

class InformerTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-informer"; }
};

std::map<std::string, std::string> FreshList(Client& client, const std::string& ns) {
  std::map<std::string, std::string> out;
  auto list = ListAll(client, resources::ConfigMaps(), ns);
  if (!list.ok()) return out;
  for (const auto& item : list->items) out[ObjectKey(item)] = ResourceVersion(item);
  return out;
}

TEST_F(InformerTest, CacheEqualsAFreshListAfterAThousandRandomWrites) {
  const auto& cms = resources::ConfigMaps();
  InformerOptions options;
  options.resource = cms;
  options.namespace_name = ns();
  options.transform = DropManagedFields;
  auto informer = NewInformer(client(), options);
  std::mutex mu;
  std::map<std::string, std::string> from_handlers;
  informer->AddEventHandler(
      {.on_add = [&](const Object& o) {
         std::lock_guard l(mu);
         from_handlers[ObjectKey(o)] = ResourceVersion(o);
       },
       .on_update = [&](const Object&, const Object& o) {
         std::lock_guard l(mu);
         from_handlers[ObjectKey(o)] = ResourceVersion(o);
       },
       .on_delete = [&](const Object& o) {
         std::lock_guard l(mu);
         from_handlers.erase(ObjectKey(o));
       }});
  informer->Start();
  ASSERT_TRUE(informer->WaitForSync(absl::Seconds(30)));

  // 1,000 random creates, updates (blind, via merge patch) and deletes over 60 names from 8
  // threads, so events for one object interleave with others'.
  constexpr int kWrites = 1000;
  std::atomic<int> next{0}, applied{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(t * 7919 + 1);
      while (next++ < kWrites) {
        std::string name = absl::StrCat("cm-", rng() % 60);
        int op = static_cast<int>(rng() % 3);
        absl::Status s;
        if (op == 0) {
          s = client().Create(cms, ns(), {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                          {"metadata", {{"name", name},
                                                        {"labels", {{"w", std::to_string(t)}}}}},
                                          {"data", {{"v", "0"}}}}).status();
        } else if (op == 1) {
          s = client().Patch(cms, ns(), name, PatchType::kMerge,
                             {{"data", {{"v", std::to_string(rng())}}}}).status();
        } else {
          s = client().Delete(cms, ns(), name);
        }
        // AlreadyExists / NotFound are expected outcomes of random operations.
        if (s.ok()) ++applied;
        else EXPECT_TRUE(kube::IsAlreadyExists(s) || kube::IsNotFound(s)) << s;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_GT(applied.load(), 300);

  std::map<std::string, std::string> cached;
  ASSERT_TRUE(Eventually([&] {
    auto fresh = FreshList(client(), ns());
    cached.clear();
    for (auto& [k, v] : informer->KeysAndVersions()) cached[k] = v;
    return cached == fresh;
  })) << "cache has " << cached.size() << " objects";
  {
    std::lock_guard l(mu);
    EXPECT_EQ(from_handlers, cached);
  }

  // Reads decode the cached object; selectors and the namespace range work on the cache.
  ASSERT_FALSE(cached.empty());
  std::string some_key = cached.begin()->first;
  std::string some_name = some_key.substr(some_key.find('/') + 1);
  auto got = informer->Get(ns(), some_name);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(ResourceVersion(*got), cached[some_key]);
  EXPECT_FALSE((*got)["metadata"].contains("managedFields"));  // the transform ran
  auto by_label = informer->List(ns(), *LabelSelector::Parse("w in (0,1,2,3,4,5,6,7)"));
  size_t labelled = 0;
  for (const auto& o : informer->List(ns())) {
    if (!GetLabels(o).empty()) ++labelled;
  }
  EXPECT_EQ(by_label.size(), labelled);
  EXPECT_EQ(informer->List("some-other-namespace").size(), 0u);
  informer->Stop();
}

TEST_F(InformerTest, ControllerUidIndexFindsOwnedObjects) {
  const auto& cms = resources::ConfigMaps();
  auto owner = client().Create(cms, ns(), {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                           {"metadata", {{"name", "owner"}}}});
  ASSERT_TRUE(owner.ok()) << owner.status();
  Object owned = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                  {"metadata", {{"name", "owned"},
                                {"ownerReferences", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                                      {"name", "owner"}, {"uid", Uid(*owner)},
                                                      {"controller", true}}}}}}};
  ASSERT_TRUE(client().Create(cms, ns(), owned).ok());
  InformerOptions options;
  options.resource = cms;
  options.namespace_name = ns();
  auto informer = NewInformer(client(), options);
  informer->Start();
  ASSERT_TRUE(informer->WaitForSync(absl::Seconds(30)));
  auto found = informer->ByIndex(kIndexControllerUid, Uid(*owner));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(Name(found[0]), "owned");
  ASSERT_TRUE(client().Delete(cms, ns(), "owned").ok());
  EXPECT_TRUE(Eventually([&] { return informer->ByIndex(kIndexControllerUid, Uid(*owner)).empty(); }));
}

// A handler with on_modified alone gets each update's new object (the cache then keeps no old
// object to decode); one with on_update as well gets old and new.
TEST_F(InformerTest, UpdatesReachOnModifiedWithTheNewObjectAndOnUpdateWithBoth) {
  const auto& cms = resources::ConfigMaps();
  Object cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
               {"metadata", {{"name", "changing"}}}, {"data", {{"v", "0"}}}};
  ASSERT_TRUE(client().Create(cms, ns(), cm).ok());
  InformerOptions options;
  options.resource = cms;
  options.namespace_name = ns();
  std::mutex mu;
  std::vector<std::string> modified_only, modified, old_values, new_values;
  auto value = [](const Object& o) { return o["data"].value("v", ""); };

  auto new_only = NewInformer(client(), options);
  new_only->AddEventHandler({.on_modified = [&](const Object& o) {
    std::lock_guard l(mu);
    modified_only.push_back(value(o));
  }});
  auto both = NewInformer(client(), options);
  both->AddEventHandler({.on_update = [&](const Object& old_obj, const Object& new_obj) {
                           std::lock_guard l(mu);
                           old_values.push_back(value(old_obj));
                           new_values.push_back(value(new_obj));
                         },
                         .on_modified = [&](const Object& o) {
                           std::lock_guard l(mu);
                           modified.push_back(value(o));
                         }});
  new_only->Start();
  both->Start();
  ASSERT_TRUE(new_only->WaitForSync(absl::Seconds(30)));
  ASSERT_TRUE(both->WaitForSync(absl::Seconds(30)));

  for (const char* v : {"1", "2"}) {
    ASSERT_TRUE(client().Patch(cms, ns(), "changing", PatchType::kMerge, {{"data", {{"v", v}}}})
                    .ok());
    ASSERT_TRUE(Eventually([&] {
      std::lock_guard l(mu);
      return !modified_only.empty() && modified_only.back() == v && !modified.empty() &&
             modified.back() == v;
    })) << "update to " << v;
  }
  std::lock_guard l(mu);
  EXPECT_EQ(modified_only, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(modified, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(old_values, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(new_values, (std::vector<std::string>{"1", "2"}));
}

}  // namespace
}  // namespace kubedl::kube
