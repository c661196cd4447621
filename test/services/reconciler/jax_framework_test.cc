// JAXJob's plug-in (SPEC §12) against the worked example of
// /work/shared/reference/kubeflow-mpi-paddle-jax.md §3: every env variable of every pod, in
// order, the master role and the success rule.
#include <string>

#include "core/framework.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

const Framework& Jax() { return FrameworkFor(api::JobKind::kJAXJob); }

// jaxjob-simple in namespace kubeflow: `workers` Workers whose `jax` container has
// `container_fields` added, then `more_containers`.
api::Job JaxJob(int workers, const std::string& container_fields = "",
                const std::string& more_containers = "") {
  return ParsedJob(
      R"({"apiVersion":"kubeflow.org/v1","kind":"JAXJob","metadata":{"name":"jaxjob-simple",
          "namespace":"kubeflow","uid":"u-jax"},"spec":{"jaxReplicaSpecs":{"Worker":{
          "replicas":)" +
      std::to_string(workers) + R"(,"restartPolicy":"OnFailure","template":{"spec":{
          "containers":[{"name":"jax","image":"ghcr.io/kubeflow/training-v1/jaxjob-simple:latest",
          "command":["python3","train.py"])" +
      container_fields + "}" + more_containers + "]}}}}}}");
}

api::Json Decorated(const api::Job& job, int64_t index) {
  api::Json pod = PodFor(job, "Worker");
  const absl::Status status = Jax().DecoratePod(job, "Worker", index, {}, pod);
  EXPECT_TRUE(status.ok()) << status;
  return pod;
}

std::string EnvOf(const api::Json& pod, size_t c = 0) {
  return pod["spec"]["containers"][c]["env"].dump();
}

// The reference table's env of worker `index` of a 2-worker job on port `port`.
std::string ExpectedEnv(int64_t index, const std::string& port = "6666") {
  return R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
         R"({"name":"COORDINATOR_PORT","value":")" + port + R"("},)"
         R"({"name":"COORDINATOR_ADDRESS","value":"jaxjob-simple-worker-0"},)"
         R"({"name":"NUM_PROCESSES","value":"2"},)"
         R"({"name":"PROCESS_ID","value":")" + std::to_string(index) + R"("}])";
}

TEST(JAXFramework, JaxWorkersGetTheCoordinatorAndTheirProcessIdInOrder) {
  const api::Job job = JaxJob(2);
  EXPECT_EQ(EnvOf(Decorated(job, 0)), ExpectedEnv(0));
  EXPECT_EQ(EnvOf(Decorated(job, 1)), ExpectedEnv(1));
}

TEST(JAXFramework, JaxEnvGoesOnEveryContainerAndAddsNothingElse) {
  const api::Job job = JaxJob(2, "", R"(,{"name":"log-shipper","image":"ship"})");
  api::Json pod = Decorated(job, 1);
  EXPECT_EQ(EnvOf(pod, 0), ExpectedEnv(1));
  EXPECT_EQ(EnvOf(pod, 1), ExpectedEnv(1));
  for (api::Json& c : pod["spec"]["containers"]) c.erase("env");
  EXPECT_EQ(pod, PodFor(job, "Worker"));  // no init container, volume or other field
}

TEST(JAXFramework, JaxCoordinatorPortIsTheJaxContainersNamedPort) {
  // A sidecar's jaxjob-port is not the coordinator's.
  const api::Job job =
      JaxJob(2, R"(,"ports":[{"name":"jaxjob-port","containerPort":7777}])",
             R"(,{"name":"proxy","image":"p","ports":[{"name":"jaxjob-port","containerPort":1}]})");
  EXPECT_EQ(Env(Decorated(job, 1)["spec"]["containers"][0], "COORDINATOR_PORT"), "7777");
}

TEST(JAXFramework, JaxUsersValueWins) {
  const api::Job job = JaxJob(2, R"(,"env":[{"name":"COORDINATOR_PORT","value":"1234"}])");
  EXPECT_EQ(EnvOf(Decorated(job, 0)),
            R"([{"name":"COORDINATOR_PORT","value":"1234"},)"
            R"({"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"COORDINATOR_ADDRESS","value":"jaxjob-simple-worker-0"},)"
            R"({"name":"NUM_PROCESSES","value":"2"},)"
            R"({"name":"PROCESS_ID","value":"0"}])");
}

TEST(JAXFramework, JaxWorkerZeroCarriesTheMasterRole) {
  const api::Job job = JaxJob(2);
  EXPECT_TRUE(Jax().IsMaster(job, "Worker", 0));
  EXPECT_FALSE(Jax().IsMaster(job, "Worker", 1));
}

TEST(JAXFramework, JaxSucceedsWhenEveryWorkerSucceededAndRunsWhileOneIsActive) {
  const api::Job job = JaxJob(2);
  ReplicaStates states;
  states["Worker"] = {.replicas = 2};
  EXPECT_EQ(Jax().Progress(job, states), JobProgress::kNotRunning);
  states["Worker"] = {.replicas = 2, .active = 1, .succeeded = 1};
  EXPECT_EQ(Jax().Progress(job, states), JobProgress::kRunning);
  states["Worker"] = {.replicas = 2, .succeeded = 2};
  EXPECT_EQ(Jax().Progress(job, states), JobProgress::kSucceeded);
}

TEST(JAXFramework, JaxOwnsNothingBesidesPodsAndServices) {
  EXPECT_TRUE(Jax().OwnedResources().empty());
  EXPECT_TRUE(Jax().DesiredObjects(JaxJob(2), {}, {}).empty());
}

}  // namespace
}  // namespace kubedl::reconciler::testing
