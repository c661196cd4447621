// Env rules the frameworks share or that only show at the edges: which containers get the env,
// what a user-set variable does, single-replica jobs, and the master role per kind.
#include <string>

#include "core/framework.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

// A template with the framework container and a sidecar.
std::string WithSidecar(int replicas, const std::string& container,
                        const std::string& container_fields = "") {
  return "{\"replicas\": " + std::to_string(replicas) +
         ", \"template\": {\"spec\": {\"containers\": [{\"name\": \"" + container +
         "\", \"image\": \"img\"" + container_fields +
         "}, {\"name\": \"log-shipper\", \"image\": \"ship\"}]}}}";
}

int CountEnv(const api::Json& container, const std::string& name) {
  int n = 0;
  for (const auto& e : container.value("env", api::Json::array())) n += e.value("name", "") == name;
  return n;
}

api::Json Decorate(const Framework& framework, const api::Job& job, const std::string& type,
                   int64_t index, const FrameworkOptions& options = {}) {
  api::Json pod = PodFor(job, type);
  absl::Status status = framework.DecoratePod(job, type, index, options, pod);
  EXPECT_TRUE(status.ok()) << status;
  return pod;
}

api::Job PyJob(const std::string& replicas, const std::string& extra_spec = "") {
  return KindJob(api::JobKind::kPyTorchJob, replicas, extra_spec);
}
api::Job XgbJob(const std::string& replicas) {
  return KindJob(api::JobKind::kXGBoostJob, replicas);
}
api::Job XdlJob(const std::string& replicas) { return KindJob(api::JobKind::kXDLJob, replicas); }
api::Job TfJob(const std::string& replicas) { return KindJob(api::JobKind::kTFJob, replicas); }

TEST(FrameworkEnvRules, TfConfigGoesOnlyOnTheTensorflowContainer) {
  api::Job job = TfJob(R"({"PS":)" + WithSidecar(1, "tensorflow") + R"(,"Worker":)" +
                       WithSidecar(2, "tensorflow") + "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kTFJob), job, "Worker", 0);
  EXPECT_NE(Env(pod["spec"]["containers"][0], "TF_CONFIG"), "<unset>");
  EXPECT_EQ(Env(pod["spec"]["containers"][1], "TF_CONFIG"), "<unset>");
}

TEST(FrameworkEnvRules, TfPodWithoutTensorflowContainerIsInvalidArgument) {
  api::Job job = TfJob(R"({"PS":)" + Replica(1, "tensorflow") + R"(,"Worker":)" +
                       Replica(2, "tensorflow") + "}");
  api::Json pod = PodFor(job, "Worker");
  pod["spec"]["containers"][0]["name"] = "trainer";
  absl::Status status = FrameworkFor(api::JobKind::kTFJob).DecoratePod(job, "Worker", 0, {}, pod);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("tensorflow"), std::string::npos);
}

TEST(FrameworkEnvRules, TfMasterLeadsLikeChief) {
  api::Job job = TfJob(R"({"Master":)" + Replica(1, "tensorflow") + R"(,"Worker":)" +
                       Replica(2, "tensorflow") + "}");
  const Framework& tf = FrameworkFor(api::JobKind::kTFJob);
  EXPECT_TRUE(tf.IsMaster(job, "Master", 0));
  EXPECT_FALSE(tf.IsMaster(job, "Worker", 0));
  ReplicaStates states;
  states["Master"] = {.replicas = 1, .active = 0};
  states["Worker"] = {.replicas = 2, .active = 2};
  EXPECT_EQ(tf.Progress(job, states), JobProgress::kNotRunning);
  states["Master"] = {.replicas = 1, .active = 1};
  EXPECT_EQ(tf.Progress(job, states), JobProgress::kRunning);
  states["Worker"] = {.replicas = 2, .succeeded = 2, .by_index = {PodOutcome::kSucceeded,
                                                                   PodOutcome::kSucceeded}};
  EXPECT_EQ(tf.Progress(job, states), JobProgress::kRunning);  // workers do not decide
  states["Master"] = {.replicas = 1, .succeeded = 1};
  EXPECT_EQ(tf.Progress(job, states), JobProgress::kSucceeded);
}

TEST(FrameworkEnvRules, PyTorchEnvGoesOnEveryContainer) {
  api::Job job = PyJob(R"({"Master":)" + WithSidecar(1, "pytorch") + R"(,"Worker":)" +
                       WithSidecar(2, "pytorch") + "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kPyTorchJob), job, "Worker", 1);
  for (const api::Json& c : pod["spec"]["containers"]) {
    ExpectEnv(c, {{"MASTER_ADDR", "pt-master-0"}, {"RANK", "2"}, {"WORLD_SIZE", "3"}});
  }
}

TEST(FrameworkEnvRules, PyTorchUserValueWinsAndIsNotDuplicated) {
  api::Job job = PyJob(R"({"Master":)" +
                       Replica(1, "pytorch", R"(,"env":[{"name":"MASTER_PORT","value":"1234"},
                          {"name":"WORLD_SIZE","valueFrom":{"fieldRef":{"fieldPath":"x"}}}])") +
                       "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kPyTorchJob), job, "Master", 0);
  const api::Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "MASTER_PORT"), "1234");
  EXPECT_EQ(CountEnv(c, "MASTER_PORT"), 1);
  EXPECT_EQ(CountEnv(c, "WORLD_SIZE"), 1);
  EXPECT_EQ(Env(c, "PET_MASTER_PORT"), "23456");  // the variables not set by the user are added
}

TEST(FrameworkEnvRules, PyTorchMasterPortComesFromTheNamedPort) {
  api::Job job = PyJob(R"({"Master":)" +
                       Replica(1, "pytorch",
                               R"(,"ports":[{"name":"pytorchjob-port","containerPort":29500}])") +
                       R"(,"Worker":)" + Replica(1, "pytorch") + "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kPyTorchJob), job, "Worker", 0);
  EXPECT_EQ(Env(pod["spec"]["containers"][0], "MASTER_PORT"), "29500");
  EXPECT_EQ(Env(pod["spec"]["containers"][0], "PET_MASTER_PORT"), "29500");
}

TEST(FrameworkEnvRules, PyTorchWorkersOnlyHaveNoMasterEnvAndNoWait) {
  api::Job job = PyJob(R"({"Worker":)" + Replica(3, "pytorch") + "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kPyTorchJob), job, "Worker", 2);
  // torchrun assigns the ranks: no fixed RANK, PET_NODE_RANK or WORLD_SIZE (SPEC §4).
  ExpectEnv(pod["spec"]["containers"][0],
            {{"MASTER_ADDR", "<unset>"}, {"RANK", "<unset>"}, {"PET_NODE_RANK", "<unset>"},
             {"WORLD_SIZE", "<unset>"}, {"PET_NNODES", "3"}});
  EXPECT_FALSE(pod["spec"].contains("initContainers"));
  EXPECT_TRUE(FrameworkFor(api::JobKind::kPyTorchJob).IsMaster(job, "Worker", 0));
  EXPECT_FALSE(FrameworkFor(api::JobKind::kPyTorchJob).IsMaster(job, "Worker", 2));
}

TEST(FrameworkEnvRules, PyTorchElasticEndpointUsesRdzvHostAndPort) {
  api::Job job = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}",
                       R"("elasticPolicy":{"rdzvHost":"etcd.infra","rdzvPort":2379,
                          "rdzvBackend":"etcd-v2"},)");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kPyTorchJob), job, "Worker", 0);
  // Defaulting copies the Worker replicas into min and max: PET_NNODES 2:2.
  ExpectEnv(pod["spec"]["containers"][0],
            {{"PET_RDZV_ENDPOINT", "etcd.infra:2379"}, {"PET_RDZV_BACKEND", "etcd-v2"},
             {"PET_NNODES", "2:2"}, {"PET_MAX_RESTARTS", "<unset>"},
             {"PET_STANDALONE", "<unset>"}});
}

TEST(FrameworkEnvRules, PyTorchExistingInitContainersAreKeptBeforeTheMasterWait) {
  api::Job job = PyJob(R"({"Master":)" + Replica(1, "pytorch") +
                       R"(,"Worker":{"replicas":1,"template":{"spec":{
                          "initContainers":[{"name":"prepare","image":"prep"}],
                          "containers":[{"name":"pytorch","image":"img"}]}}}})");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kPyTorchJob), job, "Worker", 0);
  ASSERT_EQ(pod["spec"]["initContainers"].size(), 2u);
  EXPECT_EQ(pod["spec"]["initContainers"][0]["name"], "prepare");
  EXPECT_EQ(pod["spec"]["initContainers"][1]["name"], "init-pytorch");
}

TEST(FrameworkEnvRules, XGBoostMasterOnlyJobHasNoWorkerEnv) {
  api::Job job = XgbJob(R"({"Master":)" + Replica(1, "xgboost") + "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kXGBoostJob), job, "Master", 0);
  ExpectEnv(pod["spec"]["containers"][0],
            {{"WORLD_SIZE", "1"}, {"RANK", "0"}, {"MASTER_ADDR", "xgb-master-0"},
             {"WORKER_PORT", "<unset>"}, {"WORKER_ADDRS", "<unset>"}});
  const Framework& xgb = FrameworkFor(api::JobKind::kXGBoostJob);
  EXPECT_TRUE(xgb.IsMaster(job, "Master", 0));
  EXPECT_FALSE(xgb.IsMaster(job, "Worker", 0));
}

TEST(FrameworkEnvRules, XGBoostAcceptsKubedlContainerNameAndItsPorts) {
  api::Job job = XgbJob(
      R"({"Master":)" +
      Replica(1, "xgboostjob", R"(,"ports":[{"name":"xgboostjob-port","containerPort":9000}])") +
      R"(,"Worker":)" +
      WithSidecar(2, "xgboostjob", R"(,"ports":[{"name":"xgboostjob-port","containerPort":9100}])") +
      "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kXGBoostJob), job, "Worker", 0);
  for (const api::Json& c : pod["spec"]["containers"]) {
    ExpectEnv(c, {{"MASTER_PORT", "9000"}, {"WORKER_PORT", "9100"}, {"RANK", "1"}});
  }
}

TEST(FrameworkEnvRules, XGBoostUserValueWins) {
  api::Job job = XgbJob(R"({"Master":)" +
                        Replica(1, "xgboost", R"(,"env":[{"name":"PYTHONUNBUFFERED","value":"0"}])") +
                        R"(,"Worker":)" + Replica(1, "xgboost") + "}");
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kXGBoostJob), job, "Master", 0);
  EXPECT_EQ(Env(pod["spec"]["containers"][0], "PYTHONUNBUFFERED"), "0");
  EXPECT_EQ(CountEnv(pod["spec"]["containers"][0], "PYTHONUNBUFFERED"), 1);
}

const std::string kXdlReplicas = R"({"PS":)" + Replica(1, "xdl") + R"(,"Scheduler":)" +
                                 Replica(1, "xdl") + R"(,"Worker":)" +
                                 WithSidecar(2, "xdl", R"(,"env":[{"name":"ZK_ADDR",
                                   "value":"zfs://zk:2181/xdl/u-123"}])") +
                                 R"(,"ExtendRole":)" + Replica(1, "xdl") + "}";

TEST(FrameworkEnvRules, XdlConfigListsEveryTypeWithCustomDomain) {
  api::Job job = XdlJob(kXdlReplicas);
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kXDLJob), job, "Scheduler", 0, {.cluster_domain = "corp.local"});
  const api::Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "TASK_NAME"), "scheduler");
  EXPECT_EQ(Env(c, "TASK_INDEX"), "0");
  api::Json config = api::Json::parse(Env(c, "XDL_CONFIG"));
  EXPECT_EQ(config["cluster"]["ps"], api::Json::parse(R"(["ctr-ps-0.team.svc.corp.local:2222"])"));
  EXPECT_EQ(config["cluster"]["scheduler"], api::Json::parse(R"(["ctr-scheduler-0.team.svc.corp.local:2222"])"));
  EXPECT_EQ(config["cluster"]["worker"],
            api::Json::parse(R"(["ctr-worker-0.team.svc.corp.local:2222", "ctr-worker-1.team.svc.corp.local:2222"])"));
  EXPECT_EQ(config["cluster"]["extendrole"],
            api::Json::parse(R"(["ctr-extendrole-0.team.svc.corp.local:2222"])"));
  EXPECT_EQ(config["task"], api::Json::parse(R"({"type":"scheduler","index":0})"));
  EXPECT_FALSE(config.contains("environment"));
}

TEST(FrameworkEnvRules, XdlEnvOnEveryContainerAndZkAddrNeverScopedTwice) {
  api::Job job = XdlJob(kXdlReplicas);
  api::Json pod = Decorate(FrameworkFor(api::JobKind::kXDLJob), job, "Worker", 1);
  EXPECT_EQ(Env(pod["spec"]["containers"][0], "ZK_ADDR"), "zfs://zk:2181/xdl/u-123");
  EXPECT_EQ(Env(pod["spec"]["containers"][1], "TASK_NAME"), "worker");
  EXPECT_EQ(Env(pod["spec"]["containers"][1], "TASK_INDEX"), "1");
  // Without a user ZK_ADDR none is invented.
  api::Json ps = Decorate(FrameworkFor(api::JobKind::kXDLJob), job, "PS", 0);
  EXPECT_EQ(Env(ps["spec"]["containers"][0], "ZK_ADDR"), "<unset>");
}

TEST(FrameworkEnvRules, XdlRunsWhenAnyReplicaIsActiveAndCountsExtendRole) {
  api::Job job = XdlJob(kXdlReplicas);  // defaulted: minFinishWorkRate 90 of 3 -> 3
  const Framework& xdl = FrameworkFor(api::JobKind::kXDLJob);
  EXPECT_FALSE(xdl.IsMaster(job, "Worker", 0));
  ReplicaStates states;
  states["PS"] = {.replicas = 1};
  states["Scheduler"] = {.replicas = 1, .active = 1};
  states["Worker"] = {.replicas = 2};
  states["ExtendRole"] = {.replicas = 1};
  EXPECT_EQ(xdl.Progress(job, states), JobProgress::kRunning);
  states["Scheduler"].active = 0;
  EXPECT_EQ(xdl.Progress(job, states), JobProgress::kNotRunning);
  states["Worker"] = {.replicas = 2, .succeeded = 2};
  EXPECT_EQ(xdl.Progress(job, states), JobProgress::kNotRunning);
  states["ExtendRole"] = {.replicas = 1, .succeeded = 1};
  EXPECT_EQ(xdl.Progress(job, states), JobProgress::kSucceeded);
}

TEST(FrameworkEnvRules, FrameworkForReturnsEachKindsFramework) {
  for (api::JobKind kind : {api::JobKind::kTFJob, api::JobKind::kPyTorchJob,
                            api::JobKind::kXGBoostJob, api::JobKind::kXDLJob,
                            api::JobKind::kPaddleJob, api::JobKind::kJAXJob}) {
    EXPECT_EQ(FrameworkFor(kind).kind(), kind);
  }
}

}  // namespace
}  // namespace kubedl::reconciler::testing
