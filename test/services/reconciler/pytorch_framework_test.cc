#include "frameworks/pytorch/pytorch_framework.h"

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler {
namespace {

using testing::Env;
using testing::ParsedJob;
using testing::PodFor;
using testing::Replica;

api::Job PyJob(const std::string& replicas, const std::string& extra_spec = "") {
  return ParsedJob(R"({"apiVersion":"kubeflow.org/v1","kind":"PyTorchJob","metadata":{"name":"pt",
    "namespace":"team","uid":"u1"},"spec":{)" + extra_spec + R"("pytorchReplicaSpecs":)" +
                   replicas + "}}");
}

api::Json Decorated(const api::Job& job, const std::string& type, int64_t index) {
  api::Json pod = PodFor(job, type);
  FrameworkOptions options{.master_wait_image = "busybox:test", .master_wait_retries = 7,
                           .master_wait_interval_seconds = 3};
  EXPECT_TRUE(PyTorchFramework().DecoratePod(job, type, index, options, pod).ok());
  return pod;
}

const std::string kMasterAndWorkers =
    R"({"Master":)" + Replica(1, "pytorch") + R"(,"Worker":)" + Replica(3, "pytorch") + "}";

TEST(PyTorchFramework, MasterEnvOnEveryContainerWithWorkerRankOffset) {
  api::Job job = PyJob(kMasterAndWorkers);
  api::Json worker = Decorated(job, "Worker", 1);
  const api::Json& c = worker["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "MASTER_ADDR"), "pt-master-0");
  EXPECT_EQ(Env(c, "PET_MASTER_ADDR"), "pt-master-0");
  EXPECT_EQ(Env(c, "MASTER_PORT"), "23456");
  EXPECT_EQ(Env(c, "PET_MASTER_PORT"), "23456");
  EXPECT_EQ(Env(c, "WORLD_SIZE"), "4");
  EXPECT_EQ(Env(c, "RANK"), "2");
  EXPECT_EQ(Env(c, "PET_NODE_RANK"), "2");
  EXPECT_EQ(Env(c, "PET_NNODES"), "4");
  EXPECT_EQ(Env(c, "PYTHONUNBUFFERED"), "1");
  api::Json master = Decorated(job, "Master", 0);
  EXPECT_EQ(Env(master["spec"]["containers"][0], "RANK"), "0");
}

TEST(PyTorchFramework, WorldSizeMultipliesNumericProcsPerNode) {
  api::Job job = PyJob(kMasterAndWorkers, R"("nprocPerNode":"2",)");
  const api::Json pod = Decorated(job, "Worker", 0);
  const api::Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "WORLD_SIZE"), "8");
  EXPECT_EQ(Env(c, "PET_NPROC_PER_NODE"), "2");
  api::Job automatic = PyJob(kMasterAndWorkers, R"("nprocPerNode":"auto",)");
  const api::Json automatic_pod = Decorated(automatic, "Worker", 0);
  EXPECT_EQ(Env(automatic_pod["spec"]["containers"][0], "WORLD_SIZE"), "4");
}

TEST(PyTorchFramework, WorkersWaitForTheMastersDnsName) {
  api::Job job = PyJob(kMasterAndWorkers);
  api::Json worker = Decorated(job, "Worker", 0);
  ASSERT_EQ(worker["spec"]["initContainers"].size(), 1u);
  const api::Json& init = worker["spec"]["initContainers"][0];
  EXPECT_EQ(init["image"], "busybox:test");
  const std::string script = init["command"][2];
  EXPECT_NE(script.find("seq 7"), std::string::npos);
  EXPECT_NE(script.find("nslookup pt-master-0"), std::string::npos);
  EXPECT_NE(script.find("sleep 3"), std::string::npos);
  EXPECT_FALSE(Decorated(job, "Master", 0)["spec"].contains("initContainers"));
}

TEST(PyTorchFramework, ElasticPolicySetsRendezvousEnv) {
  api::Job job = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}",
                       R"("elasticPolicy":{"minReplicas":1,"maxReplicas":3,"rdzvBackend":"c10d",
                          "maxRestarts":5,"rdzvId":"run1","rdzvConf":[{"key":"timeout","value":"60"}],
                          "standalone":true},)");
  const api::Json pod = Decorated(job, "Worker", 1);
  const api::Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "PET_RDZV_ENDPOINT"), "pt-worker-0:23456");
  EXPECT_EQ(Env(c, "PET_RDZV_BACKEND"), "c10d");
  EXPECT_EQ(Env(c, "PET_NNODES"), "1:3");
  EXPECT_EQ(Env(c, "PET_MAX_RESTARTS"), "5");
  EXPECT_EQ(Env(c, "PET_RDZV_ID"), "run1");
  EXPECT_EQ(Env(c, "PET_RDZV_CONF"), "timeout=60");
  EXPECT_EQ(Env(c, "PET_STANDALONE"), "1");
  EXPECT_EQ(Env(c, "MASTER_ADDR"), "<unset>");
  EXPECT_EQ(Env(c, "RANK"), "1");
}

TEST(PyTorchFramework, SuccessFollowsMasterElseAllWorkersElseAnyElasticWorker) {
  PyTorchFramework pt;
  ReplicaStates states;
  states["Master"] = {.replicas = 1, .active = 0, .succeeded = 1};
  states["Worker"] = {.replicas = 3, .active = 3};
  EXPECT_EQ(pt.Progress(PyJob(kMasterAndWorkers), states), JobProgress::kSucceeded);

  api::Job workers_only = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}");
  ReplicaStates w;
  w["Worker"] = {.replicas = 2, .active = 1, .succeeded = 1};
  EXPECT_EQ(pt.Progress(workers_only, w), JobProgress::kRunning);
  w["Worker"] = {.replicas = 2, .active = 0, .succeeded = 2};
  EXPECT_EQ(pt.Progress(workers_only, w), JobProgress::kSucceeded);

  api::Job elastic = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}",
                           R"("elasticPolicy":{"minReplicas":1,"maxReplicas":2},)");
  w["Worker"] = {.replicas = 2, .active = 1, .succeeded = 1};
  EXPECT_EQ(pt.Progress(elastic, w), JobProgress::kSucceeded);
}

}  // namespace
}  // namespace kubedl::reconciler
