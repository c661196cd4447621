#include "kubedl/api/kubernetes_names.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kubedl::api {
namespace {

TEST(KubernetesNamesTest, Dns1123LabelsAtTheirEdges) {
  for (const std::string& good : std::vector<std::string>{"a", "0", "team-1", std::string(63, 'a')}) {
    EXPECT_TRUE(IsDns1123Label(good)) << good;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "A", "a_b", "a.b", "-a", "a-", std::string(64, 'a')}) {
    EXPECT_FALSE(IsDns1123Label(bad)) << bad;
  }
}

TEST(KubernetesNamesTest, Dns1123SubdomainsAtTheirEdges) {
  for (const std::string& good :
       std::vector<std::string>{"a", "job.v1-2", "0.0", std::string(253, 'a'),
                                std::string(63, 'a') + "." + std::string(63, 'b')}) {
    EXPECT_TRUE(IsDns1123Subdomain(good)) << good;
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "a..b", ".a", "a.", "a.-b", "a-.b", "Job", "a_b", std::string(254, 'a')}) {
    EXPECT_FALSE(IsDns1123Subdomain(bad)) << bad;
  }
}

TEST(KubernetesNamesTest, Dns1035LabelsStartWithALetter) {
  EXPECT_TRUE(IsDns1035Label("a1"));
  EXPECT_TRUE(IsDns1035Label("mnist-train"));
  for (const std::string& bad : std::vector<std::string>{"", "1a", "-a", "a-", "A", std::string(64, 'a')}) {
    EXPECT_FALSE(IsDns1035Label(bad)) << bad;
  }
}

}  // namespace
}  // namespace kubedl::api
