// PaddleJob's plug-in (SPEC §11) against the worked examples of
// /work/shared/reference/kubeflow-mpi-paddle-jax.md §2: every env variable of every pod, in
// order, the master role and the success rules.
#include <string>

#include "core/framework.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

const Framework& Paddle() { return FrameworkFor(api::JobKind::kPaddleJob); }

// A PaddleJob named `name` in namespace kubeflow with the replica map `replicas`.
api::Job PaddleJob(const std::string& name, const std::string& replicas) {
  return ParsedJob(R"({"apiVersion":"kubeflow.org/v1","kind":"PaddleJob","metadata":{"name":")" +
                   name + R"(","namespace":"kubeflow","uid":"u-paddle"},"spec":{
                   "paddleReplicaSpecs":)" + replicas + "}}");
}

// The reference's replica: a `paddle` container with `container_fields` added.
std::string PaddleReplica(int replicas, const std::string& container_fields = "",
                          const std::string& more_containers = "") {
  return R"({"replicas":)" + std::to_string(replicas) + R"(,"restartPolicy":"OnFailure",
    "template":{"spec":{"containers":[{"name":"paddle",
      "image":"registry.baidubce.com/paddlepaddle/paddle:2.4.0rc0-cpu","command":["python"],
      "args":["-m","paddle.distributed.launch","run_check"])" + container_fields + "}" +
         more_containers + "]}}}";
}

// Collective mode: 2 workers, the port already named `master` (37777).
api::Job Collective() {
  return PaddleJob("paddle-simple-cpu",
                   R"({"Worker":)" +
                       PaddleReplica(2, R"(,"ports":[{"name":"master","containerPort":37777}])") +
                       "}");
}

// PS mode: Master 1 + Worker 2, no ports given (defaulting adds master/36543).
api::Job ParameterServer() {
  return PaddleJob("paddle-ps", R"({"Master":)" + PaddleReplica(1) + R"(,"Worker":)" +
                                    PaddleReplica(2) + "}");
}

api::Json Decorated(const api::Job& job, const std::string& type, int64_t index) {
  api::Json pod = PodFor(job, type);
  const absl::Status status = Paddle().DecoratePod(job, type, index, {}, pod);
  EXPECT_TRUE(status.ok()) << status;
  return pod;
}

// The env of the pod's container `c`, as the API server would receive it.
std::string EnvOf(const api::Json& pod, size_t c = 0) {
  return pod["spec"]["containers"][c]["env"].dump();
}

const std::string kPodIpDummy =
    R"({"name":"POD_IP_DUMMY","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}})";

TEST(PaddleFramework, PaddleCollectiveWorkerZeroIsTheRendezvousWithItsOwnPodIp) {
  EXPECT_EQ(EnvOf(Decorated(Collective(), "Worker", 0)),
            R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"PADDLE_JOB_ID","value":"paddle-simple-cpu"},)"
            R"({"name":"PADDLE_NNODES","value":"2"},)" +
                kPodIpDummy + R"(,{"name":"PADDLE_MASTER","value":"$(POD_IP_DUMMY):37777"}])");
}

TEST(PaddleFramework, PaddleCollectiveOtherWorkersReachWorkerZeroByPodName) {
  EXPECT_EQ(EnvOf(Decorated(Collective(), "Worker", 1)),
            R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"PADDLE_JOB_ID","value":"paddle-simple-cpu"},)"
            R"({"name":"PADDLE_NNODES","value":"2"},)"
            R"({"name":"PADDLE_MASTER","value":"paddle-simple-cpu-worker-0:37777"}])");
}

TEST(PaddleFramework, PaddlePsMasterIsTheRendezvousAndRunsOneServerOnTheDefaultPort) {
  EXPECT_EQ(EnvOf(Decorated(ParameterServer(), "Master", 0)),
            R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"PADDLE_JOB_ID","value":"paddle-ps"},)"
            R"({"name":"PADDLE_NNODES","value":"3"},)" +
                kPodIpDummy +
                R"(,{"name":"PADDLE_MASTER","value":"$(POD_IP_DUMMY):36543"},)"
                R"({"name":"PADDLE_SERVER_NUM","value":"1"}])");
}

TEST(PaddleFramework, PaddlePsWorkersReachMasterZeroAndRunOneTrainerEach) {
  for (int64_t index : {0, 1}) {
    EXPECT_EQ(EnvOf(Decorated(ParameterServer(), "Worker", index)),
              R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
              R"({"name":"PADDLE_JOB_ID","value":"paddle-ps"},)"
              R"({"name":"PADDLE_NNODES","value":"3"},)"
              R"({"name":"PADDLE_MASTER","value":"paddle-ps-master-0:36543"},)"
              R"({"name":"PADDLE_TRAINER_NUM","value":"1"}])")
        << "worker " << index;
  }
}

TEST(PaddleFramework, PaddleAddsNoInitContainerAndNoOtherPodField) {
  const api::Job job = ParameterServer();
  for (const auto& [type, index] : {std::pair<std::string, int64_t>{"Master", 0}, {"Worker", 1}}) {
    api::Json pod = PodFor(job, type);
    for (api::Json& c : pod["spec"]["containers"]) c.erase("env");
    api::Json decorated = Decorated(job, type, index);
    for (api::Json& c : decorated["spec"]["containers"]) c.erase("env");
    EXPECT_EQ(decorated, pod) << type;
  }
}

TEST(PaddleFramework, PaddleEnvGoesOnEveryContainerAndTheUsersValueWins) {
  const api::Job job = PaddleJob(
      "paddle-simple-cpu",
      R"({"Worker":)" +
          PaddleReplica(2, R"(,"env":[{"name":"PADDLE_JOB_ID","value":"mine"}])",
                        R"(,{"name":"log-shipper","image":"ship"})") +
          "}");
  const api::Json pod = Decorated(job, "Worker", 0);
  EXPECT_EQ(EnvOf(pod, 0),
            R"([{"name":"PADDLE_JOB_ID","value":"mine"},)"
            R"({"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"PADDLE_NNODES","value":"2"},)" +
                kPodIpDummy + R"(,{"name":"PADDLE_MASTER","value":"$(POD_IP_DUMMY):36543"}])");
  EXPECT_EQ(EnvOf(pod, 1),
            R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"PADDLE_JOB_ID","value":"paddle-simple-cpu"},)"
            R"({"name":"PADDLE_NNODES","value":"2"},)" +
                kPodIpDummy + R"(,{"name":"PADDLE_MASTER","value":"$(POD_IP_DUMMY):36543"}])");
}

TEST(PaddleFramework, PaddleUserPodIpDummyIsNotDuplicated) {
  const api::Job job = PaddleJob(
      "paddle-simple-cpu",
      R"({"Worker":)" + PaddleReplica(1, R"(,"env":[{"name":"POD_IP_DUMMY","value":"10.0.0.1"}])") +
          "}");
  const api::Json pod = Decorated(job, "Worker", 0);
  EXPECT_EQ(EnvOf(pod),
            R"([{"name":"POD_IP_DUMMY","value":"10.0.0.1"},)"
            R"({"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"PADDLE_JOB_ID","value":"paddle-simple-cpu"},)"
            R"({"name":"PADDLE_NNODES","value":"1"},)"
            R"({"name":"PADDLE_MASTER","value":"$(POD_IP_DUMMY):36543"}])");
}

TEST(PaddleFramework, PaddlePortIsTheRendezvousTypesPaddleContainerMasterPort) {
  // Worker pods dial the Master's port, not their own; a sidecar's `master` port is not
  // Paddle's.
  const std::string sidecar =
      R"(,{"name":"proxy","image":"p","ports":[{"name":"master","containerPort":1111}]})";
  const api::Job job = PaddleJob(
      "paddle-ps",
      R"({"Master":)" +
          PaddleReplica(1, R"(,"ports":[{"name":"master","containerPort":40000}])", sidecar) +
          R"(,"Worker":)" +
          PaddleReplica(2, R"(,"ports":[{"name":"master","containerPort":41000}])") + "}");
  EXPECT_EQ(Env(Decorated(job, "Worker", 1)["spec"]["containers"][0], "PADDLE_MASTER"),
            "paddle-ps-master-0:40000");
  EXPECT_EQ(Env(Decorated(job, "Master", 0)["spec"]["containers"][0], "PADDLE_MASTER"),
            "$(POD_IP_DUMMY):40000");
}

TEST(PaddleFramework, PaddleEveryMasterPodCarriesTheMasterRoleInPsMode) {
  const api::Job job = PaddleJob("paddle-ps", R"({"Master":)" + PaddleReplica(2) +
                                                  R"(,"Worker":)" + PaddleReplica(2) + "}");
  EXPECT_TRUE(Paddle().IsMaster(job, "Master", 0));
  EXPECT_TRUE(Paddle().IsMaster(job, "Master", 1));
  EXPECT_FALSE(Paddle().IsMaster(job, "Worker", 0));
  EXPECT_FALSE(Paddle().IsMaster(job, "Worker", 1));
}

TEST(PaddleFramework, PaddleCollectiveWorkerZeroCarriesTheMasterRole) {
  const api::Job job = Collective();
  EXPECT_TRUE(Paddle().IsMaster(job, "Worker", 0));
  EXPECT_FALSE(Paddle().IsMaster(job, "Worker", 1));
}

TEST(PaddleFramework, PaddlePsModeFollowsTheMasterAndIgnoresWorkers) {
  const api::Job job = ParameterServer();
  ReplicaStates states;
  states["Master"] = {.replicas = 1};
  states["Worker"] = {.replicas = 2, .active = 2};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kNotRunning);
  states["Master"] = {.replicas = 1, .active = 1};
  states["Worker"] = {.replicas = 2, .succeeded = 2};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kRunning);
  states["Master"] = {.replicas = 1, .succeeded = 1};
  states["Worker"] = {.replicas = 2, .active = 2};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kSucceeded);
}

TEST(PaddleFramework, PaddlePsModeNeedsEveryMasterReplicaToSucceed) {
  const api::Job job = PaddleJob("paddle-ps", R"({"Master":)" + PaddleReplica(2) +
                                                  R"(,"Worker":)" + PaddleReplica(1) + "}");
  ReplicaStates states;
  states["Master"] = {.replicas = 2, .active = 1, .succeeded = 1};
  states["Worker"] = {.replicas = 1, .active = 1};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kRunning);
  states["Master"] = {.replicas = 2, .succeeded = 2};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kSucceeded);
}

TEST(PaddleFramework, PaddleCollectiveSucceedsWhenEveryWorkerSucceeded) {
  const api::Job job = Collective();
  ReplicaStates states;
  states["Worker"] = {.replicas = 2};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kNotRunning);
  states["Worker"] = {.replicas = 2, .active = 1, .succeeded = 1};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kRunning);
  states["Worker"] = {.replicas = 2, .succeeded = 2};
  EXPECT_EQ(Paddle().Progress(job, states), JobProgress::kSucceeded);
}

TEST(PaddleFramework, PaddleOwnsNothingBesidesPodsAndServicesEvenWithAnElasticPolicy) {
  // SPEC §11: elasticPolicy is defaulted and validated only (no HPA, env or rendezvous change).
  const api::Job job = ParsedJob(
      R"({"apiVersion":"kubeflow.org/v1","kind":"PaddleJob","metadata":{"name":"paddle-elastic",
          "namespace":"kubeflow","uid":"u"},"spec":{"elasticPolicy":{"minReplicas":1,
          "maxReplicas":4,"metrics":[{"type":"Resource","resource":{"name":"cpu",
          "target":{"type":"Utilization","averageUtilization":80}}}]},
          "paddleReplicaSpecs":{"Worker":)" +
      PaddleReplica(2) + "}}}");
  EXPECT_TRUE(Paddle().OwnedResources().empty());
  EXPECT_TRUE(Paddle().DesiredObjects(job, {}, {}).empty());
  EXPECT_EQ(Env(Decorated(job, "Worker", 1)["spec"]["containers"][0], "PADDLE_MASTER"),
            "paddle-elastic-worker-0:36543");
}

}  // namespace
}  // namespace kubedl::reconciler::testing
