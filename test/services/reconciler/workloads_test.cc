#include "core/workloads.h"

#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace kubedl::reconciler {
namespace {

using api::JobKind;
using Kinds = std::vector<JobKind>;

// What `flag` and `env` select; a parse error fails the test.
WorkloadSelection Selected(std::string_view flag, std::string_view env) {
  auto s = ParseWorkloads(flag, env);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : WorkloadSelection{};
}

TEST(Workloads, AutoDiscoversEveryKindAndIsTheDefault) {
  for (auto [flag, env] : {std::pair{"auto", ""}, std::pair{"", ""}}) {
    const WorkloadSelection s = Selected(flag, env);
    EXPECT_TRUE(s.discover);
    EXPECT_EQ(s.kinds.size(), api::AllKinds().size());
  }
}

TEST(Workloads, StarEnablesAllWithoutDiscovery) {
  const WorkloadSelection s = Selected("*", "");
  EXPECT_FALSE(s.discover);
  EXPECT_EQ(s.kinds.size(), api::AllKinds().size());
}

TEST(Workloads, ListIsCaseInsensitiveAndMinusDisables) {
  EXPECT_EQ(Selected("pytorchjob,-tfjob, XGBoostJob", "").kinds,
            (Kinds{JobKind::kPyTorchJob, JobKind::kXGBoostJob}));
  Kinds all_but_xdl;
  for (const api::KindDescriptor& d : api::AllKinds()) {
    if (d.kind != JobKind::kXDLJob) all_but_xdl.push_back(d.kind);
  }
  EXPECT_EQ(Selected("*,-XDLJob", "").kinds, all_but_xdl);
}

TEST(Workloads, OnlyRemovalsMeanAutoWithoutThem) {
  const WorkloadSelection s = Selected("-tfjob", "");
  EXPECT_TRUE(s.discover);
  EXPECT_EQ(s.kinds.size(), api::AllKinds().size() - 1);
}

TEST(Workloads, EnvironmentIsUsedOnlyWithoutTheFlag) {
  EXPECT_EQ(Selected("", "XDLJob").kinds, (Kinds{JobKind::kXDLJob}));
  EXPECT_EQ(Selected("TFJob", "XDLJob").kinds, (Kinds{JobKind::kTFJob}));
}

TEST(Workloads, UnknownNameIsRefusedWithTheValidOnes) {
  auto s = ParseWorkloads("TFJob,MXJob", "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("MXJob"), std::string::npos);
  EXPECT_NE(s.status().message().find(
                "TFJob, PyTorchJob, XGBoostJob, XDLJob, MPIJob, PaddleJob, JAXJob"),
            std::string::npos);
  EXPECT_NE(s.status().message().find("--workloads"), std::string::npos);
}

TEST(Workloads, UnknownNameFromTheEnvironmentNamesTheVariable) {
  auto s = ParseWorkloads("", "mxjob");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("WORKLOADS_ENABLE"), std::string::npos);
}

}  // namespace
}  // namespace kubedl::reconciler
