#include "core/workloads.h"

#include "gtest/gtest.h"

namespace kubedl::reconciler {
namespace {

using api::JobKind;

TEST(Workloads, AutoDiscoversEveryKindAndIsTheDefault) {
  for (auto [flag, env] : {std::pair{"auto", ""}, std::pair{"", ""}}) {
    auto s = ParseWorkloads(flag, env);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s->discover);
    EXPECT_EQ(s->kinds.size(), 4u);
  }
}

TEST(Workloads, StarEnablesAllWithoutDiscovery) {
  auto s = ParseWorkloads("*", "");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->discover);
  EXPECT_EQ(s->kinds.size(), 4u);
}

TEST(Workloads, ListIsCaseInsensitiveAndMinusDisables) {
  auto s = ParseWorkloads("pytorchjob,-tfjob, XGBoostJob", "");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kinds, (std::vector<JobKind>{JobKind::kPyTorchJob, JobKind::kXGBoostJob}));
  auto all_but = ParseWorkloads("*,-XDLJob", "");
  ASSERT_TRUE(all_but.ok());
  EXPECT_EQ(all_but->kinds,
            (std::vector<JobKind>{JobKind::kTFJob, JobKind::kPyTorchJob, JobKind::kXGBoostJob}));
}

TEST(Workloads, OnlyRemovalsMeanAutoWithoutThem) {
  auto s = ParseWorkloads("-tfjob", "");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->discover);
  EXPECT_EQ(s->kinds.size(), 3u);
}

TEST(Workloads, EnvironmentIsUsedOnlyWithoutTheFlag) {
  auto from_env = ParseWorkloads("", "XDLJob");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->kinds, (std::vector<JobKind>{JobKind::kXDLJob}));
  auto flag_wins = ParseWorkloads("TFJob", "XDLJob");
  ASSERT_TRUE(flag_wins.ok());
  EXPECT_EQ(flag_wins->kinds, (std::vector<JobKind>{JobKind::kTFJob}));
}

TEST(Workloads, UnknownNameIsRefusedWithTheValidOnes) {
  auto s = ParseWorkloads("TFJob,MPIJob", "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("MPIJob"), std::string::npos);
  EXPECT_NE(s.status().message().find("TFJob, PyTorchJob, XGBoostJob, XDLJob"), std::string::npos);
  EXPECT_NE(s.status().message().find("--workloads"), std::string::npos);
}

TEST(Workloads, UnknownNameFromTheEnvironmentNamesTheVariable) {
  auto s = ParseWorkloads("", "mpijob");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("WORKLOADS_ENABLE"), std::string::npos);
}

}  // namespace
}  // namespace kubedl::reconciler
