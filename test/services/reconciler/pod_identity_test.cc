#include "core/pod_identity.h"

#include "gtest/gtest.h"

namespace kubedl::reconciler {
namespace {

TEST(PodIdentity, NamesAreJobLowerTypeIndex) {
  EXPECT_EQ(ReplicaName("mnist", "Worker", 3), "mnist-worker-3");
  EXPECT_EQ(ReplicaName("ctr", "ExtendRole", 0), "ctr-extendrole-0");
}

TEST(PodIdentity, LabelsCarryNewAndLegacyKeysAndMasterRole) {
  auto labels = ReplicaLabels(api::JobKind::kPyTorchJob, "pt", "Master", 0, true);
  EXPECT_EQ(labels["training.kubeflow.org/operator-name"], "pytorchjob-controller");
  EXPECT_EQ(labels["training.kubeflow.org/job-name"], "pt");
  EXPECT_EQ(labels["training.kubeflow.org/replica-type"], "master");
  EXPECT_EQ(labels["training.kubeflow.org/replica-index"], "0");
  EXPECT_EQ(labels["training.kubeflow.org/job-role"], "master");
  EXPECT_EQ(labels["group-name"], "kubeflow.org");
  EXPECT_EQ(labels["job-name"], "pt");
  EXPECT_EQ(labels["replica-type"], "master");
  EXPECT_EQ(labels["replica-index"], "0");
  EXPECT_EQ(labels["job-role"], "master");
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
}  // namespace kubedl::reconciler
