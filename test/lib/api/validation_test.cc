#include "kubedl/api/validation.h"

#include <functional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/code_sync.h"
#include "kubedl/api/defaults.h"
#include "job_fixtures.h"

namespace kubedl::api {
namespace {

using testing::MinimalJob;
using testing::MustParse;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Errors(const Json& object, const Json* old_object = nullptr) {
  Job job = MustParse(object);
  DefaultJob(job);
  std::optional<Job> old;
  if (old_object) {
    old = MustParse(*old_object);
    DefaultJob(*old);
  }
  std::vector<std::string> out;
  for (const auto& e : ValidateJob(job, old ? &*old : nullptr)) out.push_back(e.ToString());
  return out;
}

Json& Containers(Json& job, const std::string& map, const std::string& type) {
  return job["spec"][map][type]["template"]["spec"]["containers"];
}

TEST(ValidationTest, MinimalJobsOfEveryKindAreValid) {
  for (const auto& kind : AllKinds()) {
    EXPECT_THAT(Errors(MinimalJob(kind.kind)), IsEmpty()) << kind.name;
  }
}

TEST(ValidationTest, LowerCaseTypesAndMissingReplicasAreAcceptedBecauseDefaultingRunsFirst) {
  Json job = MinimalJob(JobKind::kPyTorchJob);
  Json map = Json::object();
  map["master"] = job["spec"]["pytorchReplicaSpecs"]["Master"];
  map["master"].erase("replicas");
  map["worker"] = job["spec"]["pytorchReplicaSpecs"]["Worker"];
  job["spec"]["pytorchReplicaSpecs"] = map;
  EXPECT_THAT(Errors(job), IsEmpty());
}

struct Case {
  const char* name;
  JobKind kind;
  std::function<void(Json&)> mutate;
  std::string error;  // one expected error, exactly as printed
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class RuleTest : public ::testing::TestWithParam<Case> {};

TEST_P(RuleTest, IsRefusedWithItsFieldPath) {
  Json job = MinimalJob(GetParam().kind);
  GetParam().mutate(job);
  EXPECT_THAT(Errors(job), Contains(GetParam().error));
}

const Case kCases[] = {
    {"NameNotDns1035", JobKind::kTFJob, [](Json& j) { j["metadata"]["name"] = "Bad_Name"; },
     "metadata.name: Invalid value: \"Bad_Name\": a DNS-1035 label must consist of lower case "
     "alphanumeric characters or '-', start with an alphabetic character, and end with an "
     "alphanumeric character (regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"},
    {"NameStartsWithDigit", JobKind::kXDLJob, [](Json& j) { j["metadata"]["name"] = "1job"; },
     "metadata.name: Invalid value: \"1job\": a DNS-1035 label must consist of lower case "
     "alphanumeric characters or '-', start with an alphabetic character, and end with an "
     "alphanumeric character (regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"},
    {"NameTooLong", JobKind::kTFJob,
     [](Json& j) { j["metadata"]["name"] = std::string(64, 'a'); },
     "metadata.name: Invalid value: \"" + std::string(64, 'a') +
         "\": must be no more than 63 characters"},
    {"ReplicaMapMissing", JobKind::kTFJob, [](Json& j) { j["spec"].erase("tfReplicaSpecs"); },
     "spec.tfReplicaSpecs: Required value: at least one replica type must be specified"},
    {"ReplicaMapEmpty", JobKind::kXGBoostJob,
     [](Json& j) { j["spec"]["xgbReplicaSpecs"] = Json::object(); },
     "spec.xgbReplicaSpecs: Required value: at least one replica type must be specified"},
    {"UnknownReplicaType", JobKind::kTFJob,
     [](Json& j) { j["spec"]["tfReplicaSpecs"]["Launcher"] = j["spec"]["tfReplicaSpecs"]["PS"]; },
     "spec.tfReplicaSpecs[Launcher]: Unsupported value: \"Launcher\": supported values: \"PS\", "
     "\"Master\", \"Chief\", \"Worker\", \"Evaluator\""},
    {"TwoSpellingsOfOneType", JobKind::kTFJob,
     [](Json& j) { j["spec"]["tfReplicaSpecs"]["worker"] = j["spec"]["tfReplicaSpecs"]["Worker"]; },
     "spec.tfReplicaSpecs[worker]: Duplicate value: \"Worker\""},
    {"NoContainers", JobKind::kTFJob,
     [](Json& j) { Containers(j, "tfReplicaSpecs", "Worker") = Json::array(); },
     "spec.tfReplicaSpecs[Worker].template.spec.containers: Required value: at least one "
     "container is required"},
    {"NoTemplate", JobKind::kXDLJob,
     [](Json& j) { j["spec"]["xdlReplicaSpecs"]["PS"].erase("template"); },
     "spec.xdlReplicaSpecs[PS].template.spec.containers: Required value: at least one container "
     "is required"},
    {"MissingImage", JobKind::kTFJob,
     [](Json& j) { Containers(j, "tfReplicaSpecs", "Worker")[0].erase("image"); },
     "spec.tfReplicaSpecs[Worker].template.spec.containers[0].image: Required value"},
    {"EmptyImage", JobKind::kPyTorchJob,
     [](Json& j) { Containers(j, "pytorchReplicaSpecs", "Master")[0]["image"] = ""; },
     "spec.pytorchReplicaSpecs[Master].template.spec.containers[0].image: Required value"},
    {"NoFrameworkContainer", JobKind::kPyTorchJob,
     [](Json& j) { Containers(j, "pytorchReplicaSpecs", "Worker")[0]["name"] = "main"; },
     "spec.pytorchReplicaSpecs[Worker].template.spec.containers: Required value: one container "
     "must be named \"pytorch\""},
    {"NegativeReplicas", JobKind::kTFJob,
     [](Json& j) { j["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = -1; },
     "spec.tfReplicaSpecs[Worker].replicas: Invalid value: -1: must be greater than or equal to 0"},
    {"ReplicasOverTheDefaultLimitPerType", JobKind::kXDLJob,
     [](Json& j) { j["spec"]["xdlReplicaSpecs"]["Worker"]["replicas"] = 4294967296LL; },
     "spec.xdlReplicaSpecs[Worker].replicas: Invalid value: 4294967296: must be less than or "
     "equal to 5000"},
    {"ReplicasOverTheDefaultLimitPerJob", JobKind::kTFJob,
     [](Json& j) {
       auto& r = j["spec"]["tfReplicaSpecs"];
       r["Worker"]["replicas"] = 5000;
       r["PS"] = r["Worker"];
       r["Evaluator"] = r["Worker"];
       r["Evaluator"]["replicas"] = 1;
     },
     "spec.tfReplicaSpecs: Invalid value: 10001: the replicas of all types add up to more than "
     "the maximum of 10000 per job"},
    {"NameThatMakesAServiceNameTooLong", JobKind::kTFJob,
     [](Json& j) {
       j["metadata"]["name"] = std::string(60, 'a');
       j["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = 100;
     },
     "metadata.name: Invalid value: \"" + std::string(60, 'a') +
         "\": must be no more than 53 characters: the service of Worker replica 99 would be "
         "named \"" + std::string(60, 'a') + "-worker-99\" (70 characters), and a service name "
         "must be a DNS-1035 label of at most 63 characters"},
    {"ContainerNameNotADns1123Label", JobKind::kTFJob,
     [](Json& j) {
       Containers(j, "tfReplicaSpecs", "Worker")
           .push_back({{"name", "Side_Car"}, {"image", "busybox"}});
     },
     "spec.tfReplicaSpecs[Worker].template.spec.containers[1].name: Invalid value: \"Side_Car\": "
     "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
     "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
     "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"},
    {"ContainerPortZero", JobKind::kTFJob,
     [](Json& j) {
       Containers(j, "tfReplicaSpecs", "Worker")[0]["ports"] = {{{"name", "p"}, {"containerPort", 0}}};
     },
     "spec.tfReplicaSpecs[Worker].template.spec.containers[0].ports[0].containerPort: Invalid "
     "value: 0: must be between 1 and 65535, inclusive"},
    {"ContainerPortAbove65535", JobKind::kPyTorchJob,
     [](Json& j) {
       Containers(j, "pytorchReplicaSpecs", "Master")[0]["ports"] = {{{"containerPort", 70000}}};
     },
     "spec.pytorchReplicaSpecs[Master].template.spec.containers[0].ports[0].containerPort: "
     "Invalid value: 70000: must be between 1 and 65535, inclusive"},
    {"TemplateLabelValueTooLong", JobKind::kTFJob,
     [](Json& j) {
       j["spec"]["tfReplicaSpecs"]["Worker"]["template"]["metadata"]["labels"]["team"] =
           std::string(64, 'x');
     },
     "spec.tfReplicaSpecs[Worker].template.metadata.labels[team]: Invalid value: \"" +
         std::string(64, 'x') + "\": must be no more than 63 characters"},
    {"TemplateLabelKeyNotAQualifiedName", JobKind::kTFJob,
     [](Json& j) {
       j["spec"]["tfReplicaSpecs"]["Worker"]["template"]["metadata"]["labels"]["-team"] = "a";
     },
     "spec.tfReplicaSpecs[Worker].template.metadata.labels: Invalid value: \"-team\": name part "
     "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
     "alphanumeric character"},
    {"GenerateNameThatMakesAServiceNameTooLong", JobKind::kTFJob,
     [](Json& j) {
       j["metadata"].erase("name");
       j["metadata"]["generateName"] = std::string(50, 'b') + "-";
     },
     "metadata.generateName: Invalid value: \"" + std::string(50, 'b') +
         "-\": must be no more than 49 characters: the service of Worker replica 1 would be "
         "named \"" + std::string(50, 'b') + "-xxxxx-worker-1\" (65 characters), and a service "
         "name must be a DNS-1035 label of at most 63 characters"},
    {"BadRestartPolicy", JobKind::kXGBoostJob,
     [](Json& j) { j["spec"]["xgbReplicaSpecs"]["Worker"]["restartPolicy"] = "Sometimes"; },
     "spec.xgbReplicaSpecs[Worker].restartPolicy: Unsupported value: \"Sometimes\": supported "
     "values: \"Always\", \"OnFailure\", \"Never\", \"ExitCode\""},
    {"BadCleanPodPolicy", JobKind::kTFJob,
     [](Json& j) { j["spec"]["runPolicy"] = {{"cleanPodPolicy", "Some"}}; },
     "spec.runPolicy.cleanPodPolicy: Unsupported value: \"Some\": supported values: \"All\", "
     "\"Running\", \"None\""},
    {"NegativeBackoffLimit", JobKind::kTFJob,
     [](Json& j) { j["spec"]["runPolicy"] = {{"backoffLimit", -2}}; },
     "spec.runPolicy.backoffLimit: Invalid value: -2: must be greater than or equal to 0"},
    {"NegativeTtl", JobKind::kPyTorchJob,
     [](Json& j) { j["spec"]["runPolicy"] = {{"ttlSecondsAfterFinished", -1}}; },
     "spec.runPolicy.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal "
     "to 0"},
    {"NegativeActiveDeadline", JobKind::kXGBoostJob,
     [](Json& j) { j["spec"]["runPolicy"] = {{"activeDeadlineSeconds", -5}}; },
     "spec.runPolicy.activeDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0"},
    {"NegativeMinAvailable", JobKind::kXDLJob,
     [](Json& j) { j["spec"]["runPolicy"] = {{"schedulingPolicy", {{"minAvailable", -1}}}}; },
     "spec.runPolicy.schedulingPolicy.minAvailable: Invalid value: -1: must be greater than or "
     "equal to 0"},
    {"NegativeScheduleTimeout", JobKind::kTFJob,
     [](Json& j) {
       j["spec"]["runPolicy"] = {{"schedulingPolicy", {{"scheduleTimeoutSeconds", -1}}}};
     },
     "spec.runPolicy.schedulingPolicy.scheduleTimeoutSeconds: Invalid value: -1: must be greater "
     "than or equal to 0"},
    {"TfChiefAndMaster", JobKind::kTFJob,
     [](Json& j) {
       j["spec"]["tfReplicaSpecs"]["Chief"] = j["spec"]["tfReplicaSpecs"]["PS"];
       j["spec"]["tfReplicaSpecs"]["Master"] = j["spec"]["tfReplicaSpecs"]["PS"];
     },
     "spec.tfReplicaSpecs: Forbidden: at most one of Chief and Master may be specified"},
    {"TfTwoChiefs", JobKind::kTFJob,
     [](Json& j) {
       j["spec"]["tfReplicaSpecs"]["Chief"] = j["spec"]["tfReplicaSpecs"]["PS"];
       j["spec"]["tfReplicaSpecs"]["Chief"]["replicas"] = 2;
     },
     "spec.tfReplicaSpecs[Chief].replicas: Invalid value: 2: must be less than or equal to 1"},
    {"TfBadSuccessPolicy", JobKind::kTFJob,
     [](Json& j) { j["spec"]["successPolicy"] = "AnyWorker"; },
     "spec.successPolicy: Unsupported value: \"AnyWorker\": supported values: \"\", "
     "\"AllWorkers\""},
    {"XGBoostWithoutMaster", JobKind::kXGBoostJob,
     [](Json& j) { j["spec"]["xgbReplicaSpecs"].erase("Master"); },
     "spec.xgbReplicaSpecs[Master]: Required value: a Master replica is required"},
    {"XGBoostTwoMasters", JobKind::kXGBoostJob,
     [](Json& j) { j["spec"]["xgbReplicaSpecs"]["Master"]["replicas"] = 2; },
     "spec.xgbReplicaSpecs[Master].replicas: Invalid value: 2: must be 1"},
    {"PyTorchZeroMasters", JobKind::kPyTorchJob,
     [](Json& j) { j["spec"]["pytorchReplicaSpecs"]["Master"]["replicas"] = 0; },
     "spec.pytorchReplicaSpecs[Master].replicas: Invalid value: 0: must be 1"},
    {"PyTorchZeroWorkers", JobKind::kPyTorchJob,
     [](Json& j) { j["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] = 0; },
     "spec.pytorchReplicaSpecs[Worker].replicas: Invalid value: 0: must be greater than or equal "
     "to 1"},
    {"PyTorchElasticWithoutWorker", JobKind::kPyTorchJob,
     [](Json& j) {
       j["spec"]["pytorchReplicaSpecs"].erase("Worker");
       j["spec"]["elasticPolicy"] = {{"minReplicas", 1}};
     },
     "spec.pytorchReplicaSpecs[Worker]: Required value: elasticPolicy needs a Worker replica"},
    {"PyTorchElasticMaxBelowMin", JobKind::kPyTorchJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"minReplicas", 3}, {"maxReplicas", 2}}; },
     "spec.elasticPolicy.maxReplicas: Invalid value: 2: must be greater than or equal to "
     "minReplicas"},
    {"PyTorchElasticBadBackend", JobKind::kPyTorchJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"rdzvBackend", "zookeeper"}}; },
     "spec.elasticPolicy.rdzvBackend: Unsupported value: \"zookeeper\": supported values: "
     "\"c10d\", \"etcd\", \"etcd-v2\""},
    {"PyTorchElasticBadPort", JobKind::kPyTorchJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"rdzvPort", 70000}}; },
     "spec.elasticPolicy.rdzvPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
    {"PyTorchBadNproc", JobKind::kPyTorchJob, [](Json& j) { j["spec"]["nprocPerNode"] = "many"; },
     "spec.nprocPerNode: Invalid value: \"many\": must be \"auto\", \"cpu\", \"gpu\" or a "
     "positive integer"},
    {"XdlRateZero", JobKind::kXDLJob, [](Json& j) { j["spec"]["minFinishWorkRate"] = 0; },
     "spec.minFinishWorkRate: Invalid value: 0: must be between 1 and 100, inclusive"},
    {"XdlRateOver100", JobKind::kXDLJob, [](Json& j) { j["spec"]["minFinishWorkRate"] = 101; },
     "spec.minFinishWorkRate: Invalid value: 101: must be between 1 and 100, inclusive"},
    {"XdlNegativeMinFinishNum", JobKind::kXDLJob,
     [](Json& j) { j["spec"]["minFinishWorkNum"] = -1; },
     "spec.minFinishWorkNum: Invalid value: -1: must be greater than or equal to 0"},
    {"MpiWithoutLauncher", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["mpiReplicaSpecs"].erase("Launcher"); },
     "spec.mpiReplicaSpecs[Launcher]: Required value: a Launcher replica is required"},
    {"MpiLauncherWithTwoReplicas", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["mpiReplicaSpecs"]["Launcher"]["replicas"] = 2; },
     "spec.mpiReplicaSpecs[Launcher].replicas: Invalid value: 2: must be 1"},
    {"MpiLauncherWithZeroReplicas", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["mpiReplicaSpecs"]["Launcher"]["replicas"] = 0; },
     "spec.mpiReplicaSpecs[Launcher].replicas: Invalid value: 0: must be 1"},
    {"MpiUnknownReplicaTypePS", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["mpiReplicaSpecs"]["PS"] = j["spec"]["mpiReplicaSpecs"]["Worker"]; },
     "spec.mpiReplicaSpecs[PS]: Unsupported value: \"PS\": supported values: \"Launcher\", "
     "\"Worker\""},
    {"MpiSlotsPerWorkerZero", JobKind::kMPIJob, [](Json& j) { j["spec"]["slotsPerWorker"] = 0; },
     "spec.slotsPerWorker: Invalid value: 0: must be greater than or equal to 1"},
    {"MpiSlotsPerWorkerOverInt32", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["slotsPerWorker"] = 4294967296LL; },
     "spec.slotsPerWorker: Invalid value: 4294967296: must be less than or equal to 2147483647"},
    {"MpiMainContainerThatNoWorkerContainerHas", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["mainContainer"] = "x"; },
     "spec.mainContainer: Invalid value: \"x\": must be the name of a container of "
     "spec.mpiReplicaSpecs[Worker].template"},
    {"MpiNullWorker", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["mpiReplicaSpecs"]["Worker"] = nullptr; },
     "spec.mpiReplicaSpecs[Worker].template.spec.containers: Required value: at least one "
     "container is required"},
    {"MpiNegativeWorkers", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"] = -1; },
     "spec.mpiReplicaSpecs[Worker].replicas: Invalid value: -1: must be greater than or equal to "
     "0"},
    {"MpiBadLegacyCleanPodPolicy", JobKind::kMPIJob,
     [](Json& j) { j["spec"]["cleanPodPolicy"] = "Some"; },
     "spec.runPolicy.cleanPodPolicy: Unsupported value: \"Some\": supported values: \"All\", "
     "\"Running\", \"None\""},
    {"PaddleContainerNamedMainOnly", JobKind::kPaddleJob,
     [](Json& j) { Containers(j, "paddleReplicaSpecs", "Worker")[0]["name"] = "main"; },
     "spec.paddleReplicaSpecs[Worker].template.spec.containers: Required value: one container "
     "must be named \"paddle\""},
    {"PaddleElasticPolicyWithMasterOnly", JobKind::kPaddleJob,
     [](Json& j) {
       j["spec"]["paddleReplicaSpecs"].erase("Worker");
       j["spec"]["elasticPolicy"] = Json::object();
     },
     "spec.elasticPolicy: Forbidden: needs a Worker replica in spec.paddleReplicaSpecs[Worker]"},
    {"PaddleElasticMaxBelowMin", JobKind::kPaddleJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"minReplicas", 3}, {"maxReplicas", 2}}; },
     "spec.elasticPolicy.maxReplicas: Invalid value: 2: must be greater than or equal to "
     "minReplicas"},
    {"PaddleElasticMinZero", JobKind::kPaddleJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"minReplicas", 0}, {"maxReplicas", 2}}; },
     "spec.elasticPolicy.minReplicas: Invalid value: 0: must be greater than or equal to 1"},
    {"PaddleElasticNegativeMaxRestarts", JobKind::kPaddleJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"maxRestarts", -1}}; },
     "spec.elasticPolicy.maxRestarts: Invalid value: -1: must be greater than or equal to 0"},
    {"PaddleElasticMetricsNotAList", JobKind::kPaddleJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"metrics", {{"type", "Resource"}}}}; },
     "spec.elasticPolicy.metrics: Invalid value: {\"type\":\"Resource\"}: must be a list of "
     "objects"},
    {"PaddleElasticMetricsItemNotAnObject", JobKind::kPaddleJob,
     [](Json& j) {
       j["spec"]["elasticPolicy"] = {{"metrics", Json::array({Json::object(), "cpu"})}};
     },
     "spec.elasticPolicy.metrics[1]: Invalid value: \"cpu\": must be of type object"},
    {"PaddleZeroWorkersWithoutMaster", JobKind::kPaddleJob,
     [](Json& j) {
       j["spec"]["paddleReplicaSpecs"].erase("Master");
       j["spec"]["paddleReplicaSpecs"]["Worker"]["replicas"] = 0;
     },
     "spec.paddleReplicaSpecs[Worker].replicas: Invalid value: 0: must be greater than or equal "
     "to 1 when there is no Master"},
    {"PaddleNullMaster", JobKind::kPaddleJob,
     [](Json& j) { j["spec"]["paddleReplicaSpecs"]["Master"] = nullptr; },
     "spec.paddleReplicaSpecs[Master].template.spec.containers: Required value: at least one "
     "container is required"},
    {"JaxMasterKey", JobKind::kJAXJob,
     [](Json& j) { j["spec"]["jaxReplicaSpecs"]["Master"] = j["spec"]["jaxReplicaSpecs"]["Worker"]; },
     "spec.jaxReplicaSpecs[Master]: Unsupported value: \"Master\": supported values: \"Worker\""},
    {"JaxContainerWithoutImage", JobKind::kJAXJob,
     [](Json& j) { Containers(j, "jaxReplicaSpecs", "Worker")[0].erase("image"); },
     "spec.jaxReplicaSpecs[Worker].template.spec.containers[0].image: Required value"},
    {"JaxNullWorker", JobKind::kJAXJob,
     [](Json& j) { j["spec"]["jaxReplicaSpecs"]["Worker"] = nullptr; },
     "spec.jaxReplicaSpecs[Worker].template.spec.containers: Required value: at least one "
     "container is required"},
    {"JaxEmptyContainerList", JobKind::kJAXJob,
     [](Json& j) { Containers(j, "jaxReplicaSpecs", "Worker") = Json::array(); },
     "spec.jaxReplicaSpecs[Worker].template.spec.containers: Required value: at least one "
     "container is required"},
    {"JaxContainerNotNamedJax", JobKind::kJAXJob,
     [](Json& j) { Containers(j, "jaxReplicaSpecs", "Worker")[0]["name"] = "main"; },
     "spec.jaxReplicaSpecs[Worker].template.spec.containers: Required value: one container must "
     "be named \"jax\""},
    {"JaxZeroWorkers", JobKind::kJAXJob,
     [](Json& j) { j["spec"]["jaxReplicaSpecs"]["Worker"]["replicas"] = 0; },
     "spec.jaxReplicaSpecs[Worker].replicas: Invalid value: 0: must be greater than or equal to "
     "1"},
    {"JaxNegativeBackoffLimit", JobKind::kJAXJob,
     [](Json& j) { j["spec"]["runPolicy"] = {{"backoffLimit", -1}}; },
     "spec.runPolicy.backoffLimit: Invalid value: -1: must be greater than or equal to 0"},
    {"JaxBadCleanPodPolicy", JobKind::kJAXJob,
     [](Json& j) { j["spec"]["runPolicy"] = {{"cleanPodPolicy", "Some"}}; },
     "spec.runPolicy.cleanPodPolicy: Unsupported value: \"Some\": supported values: \"All\", "
     "\"Running\", \"None\""},
    {"PyTorchElasticMetricsNotAList", JobKind::kPyTorchJob,
     [](Json& j) { j["spec"]["elasticPolicy"] = {{"metrics", "cpu"}}; },
     "spec.elasticPolicy.metrics: Invalid value: \"cpu\": must be a list of objects"},
    {"CodeSyncNotJson", JobKind::kTFJob,
     [](Json& j) { j["metadata"]["annotations"] = {{"kubedl.io/git-sync-config", "{oops"}}; },
     "metadata.annotations[kubedl.io/git-sync-config]: Invalid value: \"{oops\": must be a JSON "
     "object"},
    {"CodeSyncWithoutSource", JobKind::kTFJob,
     [](Json& j) {
       j["metadata"]["annotations"] = {{"kubedl.io/git-sync-config", R"({"branch":"main"})"}};
     },
     "metadata.annotations[kubedl.io/git-sync-config].source: Required value"},
};

INSTANTIATE_TEST_SUITE_P(Rules, RuleTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

// Defaulting canonicalizes the key first (the reference reconciler refuses `worker`).
TEST(ValidationTest, MpiLowerCaseWorkerIsAcceptedAsWorker) {
  Json job = MinimalJob(JobKind::kMPIJob);
  Json worker = job["spec"]["mpiReplicaSpecs"]["Worker"];
  job["spec"]["mpiReplicaSpecs"].erase("Worker");
  job["spec"]["mpiReplicaSpecs"]["worker"] = worker;
  EXPECT_THAT(Errors(job), IsEmpty());
}

TEST(ValidationTest, MpiNeedsNoContainerNameAndLauncherReplicasDefaultToOne) {
  Json job = MinimalJob(JobKind::kMPIJob);
  Containers(job, "mpiReplicaSpecs", "Worker")[0]["name"] = "anything";
  job["spec"]["mpiReplicaSpecs"]["Launcher"].erase("replicas");
  EXPECT_THAT(Errors(job), IsEmpty());
}

TEST(ValidationTest, MpiMainContainerNamingAWorkerContainerIsAccepted) {
  Json job = MinimalJob(JobKind::kMPIJob);
  Containers(job, "mpiReplicaSpecs", "Worker").push_back({{"name", "mpi"}, {"image", "x"}});
  job["spec"]["mainContainer"] = "mpi";
  job["spec"]["slotsPerWorker"] = 4;
  EXPECT_THAT(Errors(job), IsEmpty());
}

// mpirun on the launcher alone: a Worker is optional, and zero of them is fine.
TEST(ValidationTest, MpiJobOfALauncherAloneOrZeroWorkersIsValid) {
  Json job = MinimalJob(JobKind::kMPIJob);
  job["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"] = 0;
  EXPECT_THAT(Errors(job), IsEmpty());
  job["spec"]["mpiReplicaSpecs"].erase("Worker");
  job["spec"]["mainContainer"] = "x";  // no Worker to check it against
  EXPECT_THAT(Errors(job), IsEmpty());
}

TEST(ValidationTest, MpiLauncherServiceNameHasNoIndex) {
  Json job = MinimalJob(JobKind::kMPIJob);
  job["metadata"]["name"] = std::string(55, 'a');  // with "-launcher", 64 characters
  job["spec"]["mpiReplicaSpecs"].erase("Worker");
  EXPECT_THAT(Errors(job), Contains(HasSubstr("the service of Launcher replica 0 would be named "
                                              "\"" + std::string(55, 'a') + "-launcher\"")));
}

TEST(ValidationTest, PaddleWorkersMayBeZeroInParameterServerMode) {
  Json job = MinimalJob(JobKind::kPaddleJob);
  job["spec"]["paddleReplicaSpecs"]["Worker"]["replicas"] = 0;
  EXPECT_THAT(Errors(job), IsEmpty());
}

TEST(ValidationTest, PaddleElasticPolicyWithWorkersAndMetricsIsAccepted) {
  Json job = MinimalJob(JobKind::kPaddleJob);
  job["spec"]["elasticPolicy"] = Json::parse(R"({"minReplicas": 1, "maxReplicas": 4,
      "maxRestarts": 3, "metrics": [{"type": "Resource", "resource": {"name": "cpu",
      "target": {"type": "Utilization", "averageUtilization": 80}}}]})");
  EXPECT_THAT(Errors(job), IsEmpty());
}

TEST(ValidationTest, PyTorchElasticMetricsAndNProcPerNodeAreAccepted) {
  Json job = MinimalJob(JobKind::kPyTorchJob);
  job["spec"]["elasticPolicy"] = Json::parse(R"({"minReplicas": 1, "maxReplicas": 3,
      "nProcPerNode": 2, "metrics": [{"type": "Resource"}]})");
  EXPECT_THAT(Errors(job), IsEmpty());
}

TEST(ValidationTest, EveryProblemIsReportedNotOnlyTheFirst) {
  Json job = MinimalJob(JobKind::kTFJob);
  job["metadata"]["name"] = "Bad";
  Containers(job, "tfReplicaSpecs", "Worker")[0].erase("image");
  job["spec"]["tfReplicaSpecs"]["PS"]["replicas"] = -3;
  EXPECT_EQ(Errors(job).size(), 3u);
}

TEST(ValidationTest, GenerateNameStandsInForAMissingName) {
  Json job = MinimalJob(JobKind::kTFJob);
  job["metadata"].erase("name");
  EXPECT_THAT(Errors(job), Contains("metadata.name: Required value"));
  job["metadata"]["generateName"] = "demo-";
  EXPECT_THAT(Errors(job), IsEmpty());
}

TEST(ValidationTest, QueueCannotChangeOnUpdateOnceSet) {
  Json old = MinimalJob(JobKind::kTFJob);
  old["spec"]["runPolicy"] = {{"schedulingPolicy", {{"queue", "team-a"}}}};
  Json next = old;
  next["spec"]["runPolicy"]["schedulingPolicy"]["queue"] = "team-b";
  EXPECT_THAT(Errors(next, &old),
              Contains("spec.runPolicy.schedulingPolicy.queue: Invalid value: \"team-b\": field "
                       "is immutable"));
  // A legacy flat queue counts as set too.
  Json legacy_old = MinimalJob(JobKind::kTFJob);
  legacy_old["spec"]["schedulingPolicy"] = {{"queue", "team-a"}};
  EXPECT_THAT(Errors(next, &legacy_old), Contains(HasSubstr("field is immutable")));
  // Unchanged, or set for the first time: allowed.
  EXPECT_THAT(Errors(old, &old), IsEmpty());
  EXPECT_THAT(Errors(old, &legacy_old), IsEmpty());
  EXPECT_THAT(Errors(old, &(const Json&)MinimalJob(JobKind::kTFJob)), IsEmpty());
}

TEST(ValidationTest, ReplicaTypesCannotBeAddedOnUpdateButReplicasMayScale) {
  Json old = MinimalJob(JobKind::kTFJob);
  Json next = old;
  next["spec"]["tfReplicaSpecs"]["Evaluator"] = next["spec"]["tfReplicaSpecs"]["PS"];
  EXPECT_THAT(Errors(next, &old),
              Contains("spec.tfReplicaSpecs: Forbidden: replica types cannot be added or removed "
                       "after creation"));
  Json scaled = old;
  scaled["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = 8;
  EXPECT_THAT(Errors(scaled, &old), IsEmpty());
}

TEST(ValidationTest, WronglyTypedFieldsAreParseErrorsWithTheirPath) {
  Json job = MinimalJob(JobKind::kTFJob);
  job["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = "two";
  job["spec"]["runPolicy"] = {{"suspend", "yes"}};
  FieldErrors errors;
  auto parsed = ParseJob(job, &errors);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].ToString(),
            "spec.tfReplicaSpecs[Worker].replicas: Invalid value: \"two\": must be of type integer");
  EXPECT_EQ(errors[1].ToString(),
            "spec.runPolicy.suspend: Invalid value: \"yes\": must be of type boolean");
}

TEST(ValidationTest, InvalidObjectMessageReadsLikeTheApiServer) {
  FieldErrors one = {Required("spec.x")};
  EXPECT_EQ(InvalidObjectMessage("TFJob", "kubeflow.org", "demo", one),
            "TFJob.kubeflow.org \"demo\" is invalid: spec.x: Required value");
  FieldErrors two = {Required("spec.x"), Forbidden("spec.y", "no")};
  EXPECT_EQ(InvalidObjectMessage("TFJob", "kubeflow.org", "demo", two),
            "TFJob.kubeflow.org \"demo\" is invalid: [spec.x: Required value, spec.y: Forbidden: "
            "no]");
}

TEST(ValidationLimitsTest, TheReplicaLimitsComeFromTheOptionsAndNeverExceedInt32) {
  Json job = MinimalJob(JobKind::kTFJob);
  job["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = 3;
  Job parsed = MustParse(job);
  DefaultJob(parsed);
  ValidationOptions two{.max_replicas_per_type = 2};
  ASSERT_EQ(ValidateJob(parsed, nullptr, two).size(), 1u);
  EXPECT_EQ(ValidateJob(parsed, nullptr, two)[0].ToString(),
            "spec.tfReplicaSpecs[Worker].replicas: Invalid value: 3: must be less than or equal to 2");
  ValidationOptions three_in_all{.max_replicas_per_job = 2};
  ASSERT_EQ(ValidateJob(parsed, nullptr, three_in_all).size(), 1u);
  EXPECT_THAT(ValidateJob(parsed, nullptr, three_in_all)[0].ToString(),
              ::testing::HasSubstr("the maximum of 2 per job"));

  job["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] = 4294967296LL;
  parsed = MustParse(job);
  DefaultJob(parsed);
  ValidationOptions unlimited{.max_replicas_per_type = INT64_MAX, .max_replicas_per_job = INT64_MAX};
  ASSERT_FALSE(ValidateJob(parsed, nullptr, unlimited).empty());
  EXPECT_EQ(ValidateJob(parsed, nullptr, unlimited)[0].ToString(),
            "spec.tfReplicaSpecs[Worker].replicas: Invalid value: 4294967296: must be less than or "
            "equal to 2147483647");
}

}  // namespace
}  // namespace kubedl::api
