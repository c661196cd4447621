// A watch (through an informer) that survives the API server being restarted. Disruptive: it
// restarts the shared API server (tools/controlplane/restart-apiserver.sh).

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kubedl/kube/informer.h"
#include "kubedl/testing/cluster.h"

namespace kubedl::kube {
namespace {

using testing::ClusterTest;
using testing::Eventually;

class ApiServerRestartTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-restart"; }
};

Object ConfigMap(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
}

TEST_F(ApiServerRestartTest, WatchSurvivesTheApiServerBeingRestarted) {
  const auto& cms = resources::ConfigMaps();
  ASSERT_TRUE(client().Create(cms, ns(), ConfigMap("before")).ok());
  InformerOptions options;
  options.resource = cms;
  options.namespace_name = ns();
  options.max_backoff = absl::Seconds(1);  // keep the test short
  auto informer = NewInformer(client(), options);
  std::atomic<int> adds_of_before{0};
  informer->AddEventHandler({.on_add = [&](const Object& o) {
    if (Name(o) == "before") ++adds_of_before;
  }});
  informer->Start();
  ASSERT_TRUE(informer->WaitForSync(absl::Seconds(30)));
  ASSERT_TRUE(informer->Get(ns(), "before").has_value());

  std::string script =
      absl::StrCat(KUBEDL_SOURCE_DIR, "/tools/controlplane/restart-apiserver.sh");
  ASSERT_EQ(std::system(script.c_str()), 0) << "restart failed";

  // The pooled connections and the watch died with the old process; both recover.
  ASSERT_TRUE(Eventually([&] { return client().Create(cms, ns(), ConfigMap("after")).ok(); },
                         absl::Seconds(30)));
  EXPECT_TRUE(Eventually([&] { return informer->Get(ns(), "after").has_value(); },
                         absl::Seconds(30)));
  EXPECT_EQ(adds_of_before.load(), 1);  // resumed from its resourceVersion: no replay
  informer->Stop();
}

}  // namespace
}  // namespace kubedl::kube
