#include "frameworks/xdl/xdl_framework.h"
#include "frameworks/xgboost/xgboost_framework.h"

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler {
namespace {

using testing::Env;
using testing::ParsedJob;
using testing::PodFor;
using testing::Replica;

api::Job XgbJob(int workers) {
  return ParsedJob(R"({"apiVersion":"kubeflow.org/v1","kind":"XGBoostJob","metadata":{"name":"xgb",
    "namespace":"team","uid":"u1"},"spec":{"xgbReplicaSpecs":{"Master":)" + Replica(1, "xgboost") +
                   R"(,"Worker":)" + Replica(workers, "xgboost") + "}}}");
}

TEST(XGBoostFramework, RankOffsetsWorkersByMastersAndListsWorkerAddresses) {
  api::Job job = XgbJob(2);
  api::Json pod = PodFor(job, "Worker");
  ASSERT_TRUE(XGBoostFramework().DecoratePod(job, "Worker", 1, {}, pod).ok());
  const api::Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "MASTER_ADDR"), "xgb-master-0");
  EXPECT_EQ(Env(c, "MASTER_PORT"), "9999");
  EXPECT_EQ(Env(c, "WORLD_SIZE"), "3");
  EXPECT_EQ(Env(c, "RANK"), "2");
  EXPECT_EQ(Env(c, "WORKER_PORT"), "9999");
  EXPECT_EQ(Env(c, "WORKER_ADDRS"), "xgb-worker-0,xgb-worker-1");
  EXPECT_EQ(Env(c, "PYTHONUNBUFFERED"), "1");
}

TEST(XGBoostFramework, MasterDecidesSuccess) {
  ReplicaStates states;
  states["Master"] = {.replicas = 1, .active = 1};
  states["Worker"] = {.replicas = 2, .succeeded = 2};
  EXPECT_EQ(XGBoostFramework().Progress(XgbJob(2), states), JobProgress::kRunning);
  states["Master"] = {.replicas = 1, .succeeded = 1};
  EXPECT_EQ(XGBoostFramework().Progress(XgbJob(2), states), JobProgress::kSucceeded);
}

api::Job XdlJob(const std::string& extra_spec, const std::string& worker_env = "") {
  return ParsedJob(R"({"apiVersion":"xdl.kubedl.io/v1alpha1","kind":"XDLJob","metadata":{"name":"ctr",
    "namespace":"team","uid":"u-123"},"spec":{)" + extra_spec + R"("xdlReplicaSpecs":{"PS":)" +
                   Replica(1, "xdl") + R"(,"Worker":)" + Replica(10, "xdl", worker_env) + "}}}");
}

TEST(XDLFramework, TaskEnvAndConfigWithoutEnvironment) {
  api::Job job = XdlJob("", R"(,"env":[{"name":"ZK_ADDR","value":"zfs://zk:2181/xdl/"}])");
  api::Json pod = PodFor(job, "Worker");
  ASSERT_TRUE(XDLFramework().DecoratePod(job, "Worker", 4, {}, pod).ok());
  const api::Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "TASK_NAME"), "worker");
  EXPECT_EQ(Env(c, "TASK_INDEX"), "4");
  EXPECT_EQ(Env(c, "ZK_ADDR"), "zfs://zk:2181/xdl/u-123");
  api::Json config = api::Json::parse(Env(c, "XDL_CONFIG"));
  EXPECT_EQ(config["cluster"]["ps"][0], "ctr-ps-0.team.svc:2222");
  EXPECT_EQ(config["task"], api::Json::parse(R"({"type":"worker","index":4})"));
  EXPECT_FALSE(config.contains("environment"));
}

TEST(XDLFramework, SucceedsWhenEnoughWorkersFinished) {
  ReplicaStates states;
  states["PS"] = {.replicas = 1, .active = 1};
  states["Worker"] = {.replicas = 10, .active = 2, .succeeded = 8};
  // Default rate 90%: ceil(10 * 90 / 100) = 9 workers.
  EXPECT_EQ(XDLFramework().Progress(XdlJob(""), states), JobProgress::kRunning);
  states["Worker"] = {.replicas = 10, .active = 1, .succeeded = 9};
  EXPECT_EQ(XDLFramework().Progress(XdlJob(""), states), JobProgress::kSucceeded);
  states["Worker"] = {.replicas = 10, .active = 7, .succeeded = 3};
  EXPECT_EQ(XDLFramework().Progress(XdlJob(R"("minFinishWorkNum":3,)"), states),
            JobProgress::kSucceeded);
  EXPECT_EQ(XDLFramework().Progress(XdlJob(R"("minFinishWorkRate":50,)"), states),
            JobProgress::kRunning);
}

}  // namespace
}  // namespace kubedl::reconciler
