// The worked examples of /work/shared/reference/kubeflow-mpi-paddle-jax.md (MPIJob, PaddleJob,
// JAXJob), defaulted exactly as that file says and then valid.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/validation.h"

namespace kubedl::api {
namespace {

using testing::MustParse;
using ::testing::IsEmpty;

// Defaults `in` and checks that the result is valid.
Json DefaultedAndValid(const Json& in) {
  Job job = MustParse(in);
  DefaultJob(job);
  EXPECT_THAT(ValidateJob(job, nullptr), IsEmpty());
  return ToJson(job);
}

// The defaulted object equals `want`, key order aside (added keys go last).
void ExpectSame(const Json& got, const Json& want) {
  EXPECT_EQ(nlohmann::json::parse(got.dump()), nlohmann::json::parse(want.dump()))
      << "got " << got.dump() << "\nwant " << want.dump();
}

constexpr char kMpiHorovod[] = R"({
  "apiVersion": "kubeflow.org/v1", "kind": "MPIJob",
  "metadata": {"name": "tensorflow-mnist", "namespace": "default"},
  "spec": {
    "slotsPerWorker": 1,
    "runPolicy": {"cleanPodPolicy": "Running"},
    "mpiReplicaSpecs": {
      "Launcher": {"replicas": 1, "template": {"spec": {"containers": [{
        "name": "mpi", "image": "horovod/horovod:0.28.1", "command": ["mpirun"],
        "args": ["-np", "2", "--allow-run-as-root", "-bind-to", "none", "-map-by", "slot",
                 "-x", "LD_LIBRARY_PATH", "-x", "PATH", "-mca", "pml", "ob1", "-mca", "btl",
                 "^openib", "python", "/horovod/examples/tensorflow2/tensorflow2_mnist.py"],
        "resources": {"limits": {"cpu": 1, "memory": "2Gi"}}}]}}},
      "Worker": {"replicas": 2, "template": {"spec": {"containers": [{
        "name": "mpi", "image": "horovod/horovod:0.28.1",
        "resources": {"limits": {"cpu": 2, "memory": "4Gi"}}}]}}}}}})";

TEST(ReferenceExamplesTest, MpiHorovodGetsRestartPolicyNeverOnBothReplicasAndNoPort) {
  Json in = Json::parse(kMpiHorovod);
  Json want = in;
  want["spec"]["mpiReplicaSpecs"]["Launcher"]["restartPolicy"] = "Never";
  want["spec"]["mpiReplicaSpecs"]["Worker"]["restartPolicy"] = "Never";
  want["spec"]["runPolicy"]["suspend"] = false;
  ExpectSame(DefaultedAndValid(in), want);
}

constexpr char kPaddleCollective[] = R"({
  "apiVersion": "kubeflow.org/v1", "kind": "PaddleJob",
  "metadata": {"name": "paddle-simple-cpu", "namespace": "kubeflow"},
  "spec": {"paddleReplicaSpecs": {"Worker": {
    "replicas": 2, "restartPolicy": "OnFailure",
    "template": {"spec": {"containers": [{
      "name": "paddle", "image": "registry.baidubce.com/paddlepaddle/paddle:2.4.0rc0-cpu",
      "command": ["python"], "args": ["-m", "paddle.distributed.launch", "run_check"],
      "ports": [{"name": "master", "containerPort": 37777}]}]}}}}}})";

TEST(ReferenceExamplesTest, PaddleCollectiveKeepsItsOwnMasterPort) {
  Json in = Json::parse(kPaddleCollective);
  Json want = in;
  want["spec"]["runPolicy"] = {{"cleanPodPolicy", "None"}, {"suspend", false}};
  ExpectSame(DefaultedAndValid(in), want);
}

TEST(ReferenceExamplesTest, PaddleParameterServerGetsTheMasterPortOnEachPaddleContainer) {
  Json in = Json::parse(kPaddleCollective);
  in["metadata"]["name"] = "paddle-ps";
  Json& map = in["spec"]["paddleReplicaSpecs"];
  map["Worker"]["template"]["spec"]["containers"][0].erase("ports");
  map["Worker"].erase("restartPolicy");
  map["Master"] = map["Worker"];
  map["Master"]["replicas"] = 1;
  Json want = in;
  for (const char* type : {"Master", "Worker"}) {
    Json& replica = want["spec"]["paddleReplicaSpecs"][type];
    replica["restartPolicy"] = "OnFailure";
    replica["template"]["spec"]["containers"][0]["ports"] =
        Json::parse(R"([{"name": "master", "containerPort": 36543}])");
  }
  want["spec"]["runPolicy"] = {{"cleanPodPolicy", "None"}, {"suspend", false}};
  ExpectSame(DefaultedAndValid(in), want);
}

constexpr char kJaxSimple[] = R"({
  "apiVersion": "kubeflow.org/v1", "kind": "JAXJob",
  "metadata": {"name": "jaxjob-simple", "namespace": "kubeflow"},
  "spec": {"jaxReplicaSpecs": {"Worker": {
    "replicas": 2, "restartPolicy": "OnFailure",
    "template": {"spec": {"containers": [{
      "name": "jax", "image": "ghcr.io/kubeflow/training-v1/jaxjob-simple:latest",
      "command": ["python3", "train.py"]}]}}}}}})";

TEST(ReferenceExamplesTest, JaxGetsTheJaxjobPortOnTheJaxContainer) {
  Json in = Json::parse(kJaxSimple);
  Json want = in;
  want["spec"]["jaxReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["ports"] =
      Json::parse(R"([{"name": "jaxjob-port", "containerPort": 6666}])");
  want["spec"]["runPolicy"] = {{"cleanPodPolicy", "None"}, {"suspend", false}};
  ExpectSame(DefaultedAndValid(in), want);
}

TEST(ReferenceExamplesTest, DefaultingEachExampleTwiceChangesNothing) {
  for (const char* example : {kMpiHorovod, kPaddleCollective, kJaxSimple}) {
    Job job = MustParse(Json::parse(example));
    DefaultJob(job);
    Json once = ToJson(job);
    Job again = MustParse(once);
    DefaultJob(again);
    EXPECT_EQ(ToJson(again).dump(), once.dump()) << once["kind"];
  }
}

}  // namespace
}  // namespace kubedl::api
