// Event recorder and discovery against the real API server.

#include "gtest/gtest.h"
#include "kubedl/kube/discovery.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/testing/cluster.h"

namespace kubedl::kube {
namespace {

using testing::ClusterTest;

class ExtrasTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-extras"; }
};

TEST_F(ExtrasTest, RepeatedEventsAreAggregatedByCount) {
  auto pod = client().Create(resources::Pods(), ns(), testing::MakePod("p"));
  ASSERT_TRUE(pod.ok()) << pod.status();
  auto recorder = NewEventRecorder(client(), {.component = "kubedl-test", .host = "h"});
  for (int i = 0; i < 3; ++i) recorder->Record(*pod, "Normal", "Started", "started it");
  recorder->Record(*pod, "Warning", "Failed", "it failed");
  recorder->Flush();
  ListOptions options;
  options.field_selector = "involvedObject.name=p,source=kubedl-test";  // not the scheduler's
  auto events = client().List(resources::Events(), ns(), options);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->items.size(), 2u);
  for (const auto& e : events->items) {
    EXPECT_EQ(e["involvedObject"]["uid"], Uid(*pod));
    EXPECT_EQ(e["source"]["component"], "kubedl-test");
    if (e["reason"] == "Started") {
      EXPECT_EQ(e["count"], 3);
      EXPECT_EQ(e["type"], "Normal");
    } else {
      EXPECT_EQ(e["reason"], "Failed");
      EXPECT_EQ(e["count"], 1);
      EXPECT_EQ(e["type"], "Warning");
    }
  }
}

TEST_F(ExtrasTest, DiscoveryAnswersWhetherAKindIsServed) {
  auto discovery = NewDiscovery(client());
  EXPECT_EQ(discovery->IsServed("", "v1", "Pod").value_or(false), true);
  EXPECT_EQ(discovery->IsServed("coordination.k8s.io", "v1", "Lease").value_or(false), true);
  EXPECT_EQ(discovery->IsServed("", "v1", "Nonsense").value_or(true), false);
  EXPECT_EQ(discovery->IsServed("no.such.group", "v1", "X").value_or(true), false);
  auto pods = discovery->ResourceFor("", "v1", "Pod");
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_EQ(pods->resource, "pods");
  EXPECT_TRUE(pods->namespaced);
  auto ns = discovery->ResourceFor("", "v1", "Namespace");
  ASSERT_TRUE(ns.ok());
  EXPECT_FALSE(ns->namespaced);
  // Asking again is answered from the cache.
  absl::Time start = absl::Now();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(*discovery->IsServed("", "v1", "Pod"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(200));
}

}  // namespace
}  // namespace kubedl::kube
