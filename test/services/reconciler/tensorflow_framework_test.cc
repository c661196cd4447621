#include "core/framework.h"

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

api::Job TfJob(const std::string& replicas, const std::string& extra_spec = "") {
  return KindJob(api::JobKind::kTFJob, replicas, extra_spec);
}

api::Json TfConfig(const api::Job& job, const std::string& type, int64_t index,
                   const FrameworkOptions& options = {}) {
  api::Json pod = PodFor(job, type);
  EXPECT_TRUE(FrameworkFor(api::JobKind::kTFJob).DecoratePod(job, type, index, options, pod).ok());
  return api::Json::parse(Env(pod["spec"]["containers"][0], "TF_CONFIG"));
}

TEST(TensorFlowFramework, TfConfigListsEveryReplicaWithItsServiceAddress) {
  api::Job job = TfJob(R"({"PS":)" + Replica(2, "tensorflow") + R"(,"Worker":)" +
                       Replica(3, "tensorflow") + "}");
  api::Json config = TfConfig(job, "Worker", 1);
  EXPECT_EQ(config["cluster"]["ps"],
            api::Json::parse(R"(["mnist-ps-0.team.svc:2222","mnist-ps-1.team.svc:2222"])"));
  EXPECT_EQ(config["cluster"]["worker"].size(), 3u);
  EXPECT_EQ(config["cluster"]["worker"][2], "mnist-worker-2.team.svc:2222");
  EXPECT_EQ(config["task"], api::Json::parse(R"({"type":"worker","index":1})"));
  EXPECT_EQ(config["environment"], "cloud");
}

TEST(TensorFlowFramework, EvaluatorIsListedInTheCluster) {
  api::Job job = TfJob(R"({"Chief":)" + Replica(1, "tensorflow") + R"(,"Worker":)" +
                       Replica(1, "tensorflow") + R"(,"Evaluator":)" + Replica(1, "tensorflow") + "}");
  api::Json config = TfConfig(job, "Evaluator", 0);
  EXPECT_EQ(config["cluster"]["evaluator"][0], "mnist-evaluator-0.team.svc:2222");
  EXPECT_EQ(config["cluster"]["chief"][0], "mnist-chief-0.team.svc:2222");
  EXPECT_EQ(config["task"]["type"], "evaluator");
}

TEST(TensorFlowFramework, CustomClusterDomainAndPortAreUsed) {
  api::Job job = TfJob(R"({"Worker":)" +
                       Replica(2, "tensorflow", R"(,"ports":[{"name":"tfjob-port","containerPort":3333}])") + "}");
  api::Json config = TfConfig(job, "Worker", 0, {.cluster_domain = "cluster.example"});
  EXPECT_EQ(config["cluster"]["worker"][1], "mnist-worker-1.team.svc.cluster.example:3333");
}

TEST(TensorFlowFramework, SingleReplicaJobGetsNoTfConfig) {
  api::Job job = TfJob(R"({"Worker":)" + Replica(1, "tensorflow") + "}");
  api::Json pod = PodFor(job, "Worker");
  ASSERT_TRUE(FrameworkFor(api::JobKind::kTFJob).DecoratePod(job, "Worker", 0, {}, pod).ok());
  EXPECT_EQ(Env(pod["spec"]["containers"][0], "TF_CONFIG"), "<unset>");
}

TEST(TensorFlowFramework, DynamicWorkerSeesEveryPsAndOnlyItself) {
  api::Job job = TfJob(R"({"PS":)" + Replica(2, "tensorflow") + R"(,"Worker":)" +
                           Replica(3, "tensorflow") + "}",
                       R"("enableDynamicWorker":true,)");
  api::Json worker = TfConfig(job, "Worker", 2);
  EXPECT_EQ(worker["cluster"]["ps"].size(), 2u);
  EXPECT_EQ(worker["cluster"]["worker"],
            api::Json::parse(R"({"2":"mnist-worker-2.team.svc:2222"})"));
  EXPECT_FALSE(worker.contains("environment"));
  api::Json ps = TfConfig(job, "PS", 1);
  EXPECT_EQ(ps["cluster"], api::Json::parse(R"({"ps":{"1":"mnist-ps-1.team.svc:2222"}})"));
}

TEST(TensorFlowFramework, UserSetTfConfigIsKept) {
  api::Job job = TfJob(R"({"Worker":)" +
                       Replica(2, "tensorflow", R"(,"env":[{"name":"TF_CONFIG","value":"mine"}])") + "}");
  api::Json pod = PodFor(job, "Worker");
  ASSERT_TRUE(FrameworkFor(api::JobKind::kTFJob).DecoratePod(job, "Worker", 0, {}, pod).ok());
  EXPECT_EQ(Env(pod["spec"]["containers"][0], "TF_CONFIG"), "mine");
}

TEST(TensorFlowFramework, ChiefLeadsElseWorkerZero) {
  const Framework& tf = FrameworkFor(api::JobKind::kTFJob);
  api::Job with_chief = TfJob(R"({"Chief":)" + Replica(1, "tensorflow") + R"(,"Worker":)" +
                              Replica(2, "tensorflow") + "}");
  EXPECT_TRUE(tf.IsMaster(with_chief, "Chief", 0));
  EXPECT_FALSE(tf.IsMaster(with_chief, "Worker", 0));
  api::Job workers = TfJob(R"({"Worker":)" + Replica(2, "tensorflow") + "}");
  EXPECT_TRUE(tf.IsMaster(workers, "Worker", 0));
  EXPECT_FALSE(tf.IsMaster(workers, "Worker", 1));
}

ReplicaState State(int64_t replicas, int64_t active, int64_t succeeded,
                   std::vector<PodOutcome> by_index) {
  return {.replicas = replicas, .active = active, .succeeded = succeeded, .failed = 0,
          .by_index = std::move(by_index)};
}

JobProgress ProgressOf(const api::Job& job, const ReplicaStates& states) {
  return FrameworkFor(api::JobKind::kTFJob).Progress(job, states);
}

TEST(TensorFlowFramework, WorkerZeroSuccessCompletesTheJobByDefault) {
  const api::Job job = TfJob(ReplicaMap("tensorflow", {{"PS", 1}, {"Worker", 2}}));
  ReplicaStates states = {{"PS", State(1, 1, 0, {PodOutcome::kRunning})}};
  states["Worker"] = State(2, 1, 1, {PodOutcome::kSucceeded, PodOutcome::kRunning});
  EXPECT_EQ(ProgressOf(job, states), JobProgress::kSucceeded);
  states["Worker"] = State(2, 1, 1, {PodOutcome::kRunning, PodOutcome::kSucceeded});
  EXPECT_EQ(ProgressOf(job, states), JobProgress::kRunning);
}

TEST(TensorFlowFramework, AllWorkersPolicyWaitsForEveryWorker) {
  const api::Job job =
      TfJob(ReplicaMap("tensorflow", {{"Worker", 2}}), R"("successPolicy":"AllWorkers",)");
  ReplicaStates states;
  states["Worker"] = State(2, 1, 1, {PodOutcome::kSucceeded, PodOutcome::kRunning});
  EXPECT_EQ(ProgressOf(job, states), JobProgress::kRunning);
  states["Worker"] = State(2, 0, 2, {PodOutcome::kSucceeded, PodOutcome::kSucceeded});
  EXPECT_EQ(ProgressOf(job, states), JobProgress::kSucceeded);
}

TEST(TensorFlowFramework, ChiefDecidesWhenPresent) {
  const api::Job job = TfJob(ReplicaMap("tensorflow", {{"Chief", 1}, {"Worker", 2}}));
  ReplicaStates states = {
      {"Chief", State(1, 0, 0, {PodOutcome::kPending})},
      {"Worker", State(2, 2, 0, {PodOutcome::kRunning, PodOutcome::kRunning})}};
  EXPECT_EQ(ProgressOf(job, states), JobProgress::kNotRunning);
  states["Chief"] = State(1, 0, 1, {PodOutcome::kSucceeded});
  EXPECT_EQ(ProgressOf(job, states), JobProgress::kSucceeded);
}

}  // namespace
}  // namespace kubedl::reconciler::testing
