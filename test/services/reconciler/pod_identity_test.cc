#include "core/pod_identity.h"

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

TEST(PodIdentity, NamesAreJobLowerTypeIndex) {
  EXPECT_EQ(ReplicaName(api::Describe(api::JobKind::kTFJob), "mnist", "Worker", 3), "mnist-worker-3");
  EXPECT_EQ(ReplicaName(api::Describe(api::JobKind::kXDLJob), "ctr", "ExtendRole", 0), "ctr-extendrole-0");
}

TEST(PodIdentity, LabelsCarryNewAndLegacyKeysAndMasterRole) {
  ExpectLabels(ReplicaLabels(api::JobKind::kPyTorchJob, "pt", "Master", 0, true),
               {{"training.kubeflow.org/operator-name", "pytorchjob-controller"},
                {"training.kubeflow.org/job-name", "pt"},
                {"training.kubeflow.org/replica-type", "master"},
                {"training.kubeflow.org/replica-index", "0"},
                {"training.kubeflow.org/job-role", "master"}, {"group-name", "kubeflow.org"},
                {"job-name", "pt"}, {"replica-type", "master"}, {"replica-index", "0"},
                {"job-role", "master"}});
  auto worker = ReplicaLabels(api::JobKind::kPyTorchJob, "pt", "Worker", 1, false);
  EXPECT_FALSE(worker.contains("training.kubeflow.org/job-role"));
  EXPECT_FALSE(worker.contains("job-role"));
}

TEST(PodIdentity, JobKeysRoundTrip) {
  const std::string key = JobKey(api::JobKind::kXDLJob, "ns", "j");
  EXPECT_EQ(key, "XDLJob/ns/j");
  auto parsed = ParseJobKey(key);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->kind, api::JobKind::kXDLJob);
  EXPECT_EQ(parsed->namespace_, "ns");
  EXPECT_EQ(parsed->name, "j");
  EXPECT_FALSE(ParseJobKey("Deployment/ns/j").has_value());
  EXPECT_FALSE(ParseJobKey("TFJob/j").has_value());
}

}  // namespace
}  // namespace kubedl::reconciler::testing
