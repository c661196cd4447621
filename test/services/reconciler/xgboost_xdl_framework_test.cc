#include "core/framework.h"

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

api::Job XgbJob(int workers) {
  return KindJob(api::JobKind::kXGBoostJob,
                 ReplicaMap("xgboost", {{"Master", 1}, {"Worker", workers}}));
}

TEST(XGBoostFramework, RankOffsetsWorkersByMastersAndListsWorkerAddresses) {
  api::Job job = XgbJob(2);
  api::Json pod = PodFor(job, "Worker");
  ASSERT_TRUE(FrameworkFor(api::JobKind::kXGBoostJob).DecoratePod(job, "Worker", 1, {}, pod).ok());
  ExpectEnv(pod["spec"]["containers"][0],
            {{"MASTER_ADDR", "xgb-master-0"}, {"MASTER_PORT", "9999"}, {"WORLD_SIZE", "3"},
             {"RANK", "2"}, {"WORKER_PORT", "9999"}, {"WORKER_ADDRS", "xgb-worker-0,xgb-worker-1"},
             {"PYTHONUNBUFFERED", "1"}});
}

TEST(XGBoostFramework, MasterDecidesSuccess) {
  ReplicaStates states;
  states["Master"] = {.replicas = 1, .active = 1};
  states["Worker"] = {.replicas = 2, .succeeded = 2};
  EXPECT_EQ(FrameworkFor(api::JobKind::kXGBoostJob).Progress(XgbJob(2), states), JobProgress::kRunning);
  states["Master"] = {.replicas = 1, .succeeded = 1};
  EXPECT_EQ(FrameworkFor(api::JobKind::kXGBoostJob).Progress(XgbJob(2), states), JobProgress::kSucceeded);
}

api::Job XdlJob(const std::string& extra_spec, const std::string& worker_env = "") {
  const std::string replicas = R"({"PS":)" + Replica(1, "xdl") + R"(,"Worker":)" +
                               Replica(10, "xdl", worker_env) + "}";
  return KindJob(api::JobKind::kXDLJob, replicas, extra_spec);
}

TEST(XDLFramework, TaskEnvAndConfigWithoutEnvironment) {
  api::Job job = XdlJob("", R"(,"env":[{"name":"ZK_ADDR","value":"zfs://zk:2181/xdl/"}])");
  api::Json pod = PodFor(job, "Worker");
  ASSERT_TRUE(FrameworkFor(api::JobKind::kXDLJob).DecoratePod(job, "Worker", 4, {}, pod).ok());
  const api::Json& c = pod["spec"]["containers"][0];
  ExpectEnv(c, {{"TASK_NAME", "worker"}, {"TASK_INDEX", "4"},
                {"ZK_ADDR", "zfs://zk:2181/xdl/u-123"}});
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
  EXPECT_EQ(FrameworkFor(api::JobKind::kXDLJob).Progress(XdlJob(""), states), JobProgress::kRunning);
  states["Worker"] = {.replicas = 10, .active = 1, .succeeded = 9};
  EXPECT_EQ(FrameworkFor(api::JobKind::kXDLJob).Progress(XdlJob(""), states), JobProgress::kSucceeded);
  states["Worker"] = {.replicas = 10, .active = 7, .succeeded = 3};
  EXPECT_EQ(FrameworkFor(api::JobKind::kXDLJob).Progress(XdlJob(R"("minFinishWorkNum":3,)"), states),
            JobProgress::kSucceeded);
  EXPECT_EQ(FrameworkFor(api::JobKind::kXDLJob).Progress(XdlJob(R"("minFinishWorkRate":50,)"), states),
            JobProgress::kRunning);
}

}  // namespace
}  // namespace kubedl::reconciler::testing
