// The HorizontalPodAutoscaler an elastic PyTorchJob with metrics owns (frameworks/pytorch/
// pytorch_autoscaler.h), as the plug-in hands it to the core: byte-equal, and absent when the
// job wants none.
#include <string>

#include "core/framework.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

using ::testing::IsEmpty;

const Framework& PyTorch() { return FrameworkFor(api::JobKind::kPyTorchJob); }

const std::string kCpuMetric =
    R"([{"type":"Resource","resource":{"name":"cpu",)"
    R"("target":{"type":"Utilization","averageUtilization":80}}}])";

// pt in namespace team: 2 Workers with `elastic_policy` and `extra_spec` before it.
api::Job ElasticJob(const std::string& elastic_policy, const std::string& extra_spec = "") {
  return KindJob(api::JobKind::kPyTorchJob, R"({"Worker":)" + Replica(2, "pytorch") + "}",
                 extra_spec + R"("elasticPolicy":)" + elastic_policy + ",");
}

ReplicaStates Running() {
  ReplicaStates states;
  states["Worker"] = {.replicas = 2, .active = 2};
  return states;
}

std::vector<OwnedObject> Desired(const api::Job& job, const ReplicaStates& states = Running()) {
  return PyTorch().DesiredObjects(job, states, {});
}

std::string ExpectedHpa(int min, int max) {
  return R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",)"
         R"("metadata":{"name":"pt"},"spec":{"scaleTargetRef":{"apiVersion":"kubeflow.org/v1",)"
         R"("kind":"PyTorchJob","name":"pt"},"minReplicas":)" +
         std::to_string(min) + R"(,"maxReplicas":)" + std::to_string(max) +
         R"(,"metrics":)" + kCpuMetric + "}}";
}

TEST(PyTorchAutoscaler, PyTorchOwnsHorizontalPodAutoscalersOfAutoscalingV2) {
  const std::vector<kube::ResourceRef> owned = PyTorch().OwnedResources();
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_EQ(owned[0].group, "autoscaling");
  EXPECT_EQ(owned[0].version, "v2");
  EXPECT_EQ(owned[0].resource, "horizontalpodautoscalers");
  EXPECT_TRUE(owned[0].namespaced);
}

TEST(PyTorchAutoscaler, ElasticMetricsGiveAnHpaOnTheJobsScaleSubresourceNamedAfterTheJob) {
  const api::Job job =
      ElasticJob(R"({"minReplicas":1,"maxReplicas":3,"metrics":)" + kCpuMetric + "}");
  const std::vector<OwnedObject> desired = Desired(job);
  ASSERT_EQ(desired.size(), 1u);
  EXPECT_EQ(desired[0].resource.ApiVersion(), "autoscaling/v2");
  EXPECT_EQ(desired[0].resource.resource, "horizontalpodautoscalers");
  EXPECT_FALSE(desired[0].use_existing);  // the core keeps it equal to what the job says
  EXPECT_EQ(desired[0].body.dump(), ExpectedHpa(1, 3));
}

TEST(PyTorchAutoscaler, HpaFollowsUpdatedMinAndMaxReplicas) {
  const api::Job job =
      ElasticJob(R"({"minReplicas":2,"maxReplicas":5,"metrics":)" + kCpuMetric + "}");
  const std::vector<OwnedObject> desired = Desired(job);
  ASSERT_EQ(desired.size(), 1u);
  EXPECT_EQ(desired[0].body.dump(), ExpectedHpa(2, 5));
}

TEST(PyTorchAutoscaler, DefaultedBoundsAreTheWorkerReplicas) {
  const api::Job job = ElasticJob(R"({"metrics":)" + kCpuMetric + "}");
  const std::vector<OwnedObject> desired = Desired(job);
  ASSERT_EQ(desired.size(), 1u);
  EXPECT_EQ(desired[0].body.dump(), ExpectedHpa(2, 2));
}

TEST(PyTorchAutoscaler, NoHpaWithoutMetrics) {
  EXPECT_THAT(Desired(ElasticJob(R"({"minReplicas":1,"maxReplicas":3})")), IsEmpty());
  EXPECT_THAT(Desired(KindJob(api::JobKind::kPyTorchJob,
                              R"({"Worker":)" + Replica(2, "pytorch") + "}")),
              IsEmpty());
}

TEST(PyTorchAutoscaler, NoHpaWhileTheJobIsSuspended) {
  const api::Job job =
      ElasticJob(R"({"minReplicas":1,"maxReplicas":3,"metrics":)" + kCpuMetric + "}",
                 R"("runPolicy":{"suspend":true},)");
  // The core asks with no states while it suspends the job, and with states on other passes.
  EXPECT_THAT(Desired(job, {}), IsEmpty());
  EXPECT_THAT(Desired(job), IsEmpty());
}

}  // namespace
}  // namespace kubedl::reconciler::testing
