#include "kubedl/kube/resource.h"

#include "gtest/gtest.h"

namespace kubedl::kube {
namespace {

TEST(ResourcePathTest, ValidNamesAreWrittenAsTheyAre) {
  EXPECT_EQ(resources::Pods().ObjectPath("team-a", "job-worker-0", "status"),
            "/api/v1/namespaces/team-a/pods/job-worker-0/status");
  EXPECT_EQ(resources::Leases().CollectionPath("kubedl-system"),
            "/apis/coordination.k8s.io/v1/namespaces/kubedl-system/leases");
  EXPECT_EQ(resources::Namespaces().ObjectPath("", "team.a_b~c"), "/api/v1/namespaces/team.a_b~c");
}

TEST(ResourcePathTest, SlashesQueriesAndDotSegmentsInNamesStayInsideTheirSegment) {
  EXPECT_EQ(resources::Pods().ObjectPath("a/../kube-system", "x?watch=1#f"),
            "/api/v1/namespaces/a%2F..%2Fkube-system/pods/x%3Fwatch%3D1%23f");
  EXPECT_EQ(resources::ConfigMaps().ObjectPath("ns", "a b%2F"),
            "/api/v1/namespaces/ns/configmaps/a%20b%252F");
}

}  // namespace
}  // namespace kubedl::kube
