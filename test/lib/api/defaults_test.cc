#include "kubedl/api/defaults.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::api {
namespace {

using testing::MinimalJob;
using testing::MustParse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Json Defaulted(const Json& in, DefaultingResult* result = nullptr) {
  Job job = MustParse(in);
  DefaultingResult r = DefaultJob(job);
  if (result) *result = r;
  return ToJson(job);
}

struct KindDefaults {
  JobKind kind;
  const char* restart_policy;
  const char* clean_pod_policy;
  const char* port_name;  // nullptr: the kind adds no port
  int port;
  const char* zero_replicas_type = nullptr;  // the type whose missing replicas become 0
};

void PrintTo(const KindDefaults& k, std::ostream* os) { *os << Describe(k.kind).name; }

class PerKindDefaultsTest : public ::testing::TestWithParam<KindDefaults> {};

TEST_P(PerKindDefaultsTest, FillsReplicasRestartPolicyCleanPodPolicyAndPort) {
  const KindDefaults& want = GetParam();
  Json in = MinimalJob(want.kind);
  std::string map = std::string(Describe(want.kind).replica_specs_key);
  for (auto& [type, spec] : in["spec"][map].items()) spec.erase("replicas");
  Json out = Defaulted(in);
  for (auto& [type, spec] : out["spec"][map].items()) {
    const bool zero = want.zero_replicas_type != nullptr && type == want.zero_replicas_type;
    EXPECT_EQ(spec["replicas"], zero ? 0 : 1) << type;
    EXPECT_EQ(spec["restartPolicy"], want.restart_policy) << type;
    const Json& container = spec["template"]["spec"]["containers"][0];
    if (want.port_name == nullptr) {
      EXPECT_FALSE(container.contains("ports")) << type;
      continue;
    }
    const Json& ports = container["ports"];
    ASSERT_EQ(ports.size(), 1u) << type;
    EXPECT_EQ(ports[0]["name"], want.port_name);
    EXPECT_EQ(ports[0]["containerPort"], want.port);
  }
  EXPECT_EQ(out["spec"]["runPolicy"]["cleanPodPolicy"], want.clean_pod_policy);
  EXPECT_EQ(out["spec"]["runPolicy"]["suspend"], false);
}

TEST_P(PerKindDefaultsTest, DefaultingTwiceGivesAnEmptyPatch) {
  Json once = Defaulted(MinimalJob(GetParam().kind));
  Json twice = Defaulted(once);
  EXPECT_EQ(Json::diff(once, twice), Json::array()) << once.dump();
}

TEST_P(PerKindDefaultsTest, PatchFromOriginalAppliesToTheDefaultedObject) {
  Json in = MinimalJob(GetParam().kind);
  in["spec"]["cleanPodPolicy"] = "All";  // a legacy key, moved
  Json out = Defaulted(in);
  Json patch = Json::diff(in, out);
  EXPECT_EQ(in.patch(patch), out);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, PerKindDefaultsTest,
    ::testing::Values(KindDefaults{JobKind::kTFJob, "Never", "None", "tfjob-port", 2222},
                      KindDefaults{JobKind::kPyTorchJob, "OnFailure", "None", "pytorchjob-port",
                                   23456},
                      KindDefaults{JobKind::kXGBoostJob, "Never", "None", "xgboostjob-port", 9999},
                      KindDefaults{JobKind::kXDLJob, "Never", "Running", "xdljob-port", 2222},
                      KindDefaults{JobKind::kMPIJob, "Never", "None", nullptr, 0, "Worker"},
                      KindDefaults{JobKind::kPaddleJob, "OnFailure", "None", "master", 36543},
                      KindDefaults{JobKind::kJAXJob, "Never", "None", "jaxjob-port", 6666}),
    [](const auto& info) { return std::string(Describe(info.param.kind).name); });

// Every kind survives a replica spec that is null or has no containers (the Kubeflow webhooks
// crash on them): validation then reports the template.
TEST_P(PerKindDefaultsTest, NullReplicaSpecAndEmptyContainerListAreDefaultedWithoutCrashing) {
  const KindDescriptor& kind = Describe(GetParam().kind);
  const std::string map(kind.replica_specs_key);
  Json in = MinimalJob(kind.kind);
  in["spec"][map]["Worker"] = nullptr;
  Json out = Defaulted(in);
  EXPECT_EQ(Json::diff(out, Defaulted(out)), Json::array());
  in["spec"][map]["Worker"] = Json::parse(R"({"template": {"spec": {"containers": []}}})");
  out = Defaulted(in);
  EXPECT_EQ(out["spec"][map]["Worker"]["template"]["spec"]["containers"], Json::array());
  EXPECT_EQ(Json::diff(out, Defaulted(out)), Json::array());
}

TEST(DefaultsTest, ReplicaTypesAreRewrittenInCanonicalCase) {
  Json in = MinimalJob(JobKind::kTFJob);
  Json map = Json::object();
  map["worker"] = in["spec"]["tfReplicaSpecs"]["Worker"];
  map["ps"] = in["spec"]["tfReplicaSpecs"]["PS"];
  in["spec"]["tfReplicaSpecs"] = map;
  Json out = Defaulted(in);
  EXPECT_TRUE(out["spec"]["tfReplicaSpecs"].contains("Worker"));
  EXPECT_TRUE(out["spec"]["tfReplicaSpecs"].contains("PS"));
  EXPECT_FALSE(out["spec"]["tfReplicaSpecs"].contains("worker"));
}

TEST(DefaultsTest, TwoSpellingsOfOneTypeAreLeftForValidation) {
  Json in = MinimalJob(JobKind::kTFJob);
  in["spec"]["tfReplicaSpecs"]["worker"] = in["spec"]["tfReplicaSpecs"]["Worker"];
  Json out = Defaulted(in);
  EXPECT_TRUE(out["spec"]["tfReplicaSpecs"].contains("worker"));
  EXPECT_TRUE(out["spec"]["tfReplicaSpecs"].contains("Worker"));
}

TEST(DefaultsTest, ExplicitValuesAreKept) {
  Json in = MinimalJob(JobKind::kPyTorchJob);
  in["spec"]["pytorchReplicaSpecs"]["Worker"]["restartPolicy"] = "ExitCode";
  in["spec"]["runPolicy"] = {{"cleanPodPolicy", "All"}, {"suspend", true}};
  in["spec"]["nprocPerNode"] = "4";
  Json out = Defaulted(in);
  EXPECT_EQ(out["spec"]["pytorchReplicaSpecs"]["Worker"]["restartPolicy"], "ExitCode");
  EXPECT_EQ(out["spec"]["runPolicy"]["cleanPodPolicy"], "All");
  EXPECT_EQ(out["spec"]["runPolicy"]["suspend"], true);
  EXPECT_EQ(out["spec"]["nprocPerNode"], "4");
}

TEST(DefaultsTest, KindSpecificDefaults) {
  EXPECT_EQ(Defaulted(MinimalJob(JobKind::kTFJob))["spec"]["successPolicy"], "");
  EXPECT_EQ(Defaulted(MinimalJob(JobKind::kPyTorchJob))["spec"]["nprocPerNode"], "auto");
  Json xdl = Defaulted(MinimalJob(JobKind::kXDLJob));
  EXPECT_EQ(xdl["spec"]["runPolicy"]["backoffLimit"], 20);
  EXPECT_EQ(xdl["spec"]["minFinishWorkRate"], 90);
  Json with_num = MinimalJob(JobKind::kXDLJob);
  with_num["spec"]["minFinishWorkNum"] = 3;
  EXPECT_FALSE(Defaulted(with_num)["spec"].contains("minFinishWorkRate"));
}

TEST(DefaultsTest, ElasticPolicyMinAndMaxCopyEachOtherOrTheWorkerReplicas) {
  Json in = MinimalJob(JobKind::kPyTorchJob);
  in["spec"]["elasticPolicy"] = {{"maxReplicas", 5}};
  Json out = Defaulted(in);
  EXPECT_EQ(out["spec"]["elasticPolicy"]["minReplicas"], 5);
  in["spec"]["elasticPolicy"] = {{"minReplicas", 2}};
  EXPECT_EQ(Defaulted(in)["spec"]["elasticPolicy"]["maxReplicas"], 2);
  in["spec"]["elasticPolicy"] = {{"rdzvBackend", "c10d"}};
  out = Defaulted(in);
  EXPECT_EQ(out["spec"]["elasticPolicy"]["minReplicas"], 2);  // Worker replicas
  EXPECT_EQ(out["spec"]["elasticPolicy"]["maxReplicas"], 2);
}

TEST(DefaultsTest, PortGoesOnTheFrameworkContainerElseTheFirst) {
  Json in = MinimalJob(JobKind::kTFJob);
  Json& containers = in["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"];
  containers = Json::array({{{"name", "sidecar"}, {"image", "x"}},
                            {{"name", "tensorflow"}, {"image", "y"}}});
  in["spec"]["tfReplicaSpecs"]["PS"]["template"]["spec"]["containers"][0]["name"] = "main";
  Json out = Defaulted(in);
  const Json& worker = out["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"];
  EXPECT_FALSE(worker[0].contains("ports"));
  EXPECT_EQ(worker[1]["ports"][0]["name"], "tfjob-port");
  EXPECT_EQ(out["spec"]["tfReplicaSpecs"]["PS"]["template"]["spec"]["containers"][0]["ports"][0]
               ["name"],
            "tfjob-port");
}

TEST(DefaultsTest, XGBoostLegacyContainerNameGetsThePort) {
  Json in = MinimalJob(JobKind::kXGBoostJob);
  Json& containers = in["spec"]["xgbReplicaSpecs"]["Master"]["template"]["spec"]["containers"];
  containers = Json::array({{{"name", "helper"}, {"image", "x"}},
                            {{"name", "xgboostjob"}, {"image", "y"}}});
  Json out = Defaulted(in);
  EXPECT_EQ(out["spec"]["xgbReplicaSpecs"]["Master"]["template"]["spec"]["containers"][1]["ports"]
               [0]["containerPort"],
            9999);
}

TEST(DefaultsTest, ExistingNamedPortIsNotAddedAgain) {
  Json in = MinimalJob(JobKind::kTFJob);
  in["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["ports"] =
      Json::array({{{"name", "tfjob-port"}, {"containerPort", 3333}}});
  Json out = Defaulted(in);
  const Json& ports =
      out["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["ports"];
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0]["containerPort"], 3333);
}

TEST(DefaultsTest, LegacyFlatRunPolicyKeysMoveIntoRunPolicyWithAWarning) {
  Json in = MinimalJob(JobKind::kTFJob);
  in["spec"]["cleanPodPolicy"] = "All";
  in["spec"]["ttlSecondsAfterFinished"] = 60;
  in["spec"]["activeDeadlineSeconds"] = 3600;
  in["spec"]["backoffLimit"] = 4;
  in["spec"]["schedulingPolicy"] = {{"minAvailable", 3}, {"queue", "q1"}};
  DefaultingResult result;
  Json out = Defaulted(in, &result);
  for (const char* key : {"cleanPodPolicy", "ttlSecondsAfterFinished", "activeDeadlineSeconds",
                          "backoffLimit", "schedulingPolicy"}) {
    EXPECT_FALSE(out["spec"].contains(key)) << key;
  }
  const Json& rp = out["spec"]["runPolicy"];
  EXPECT_EQ(rp["cleanPodPolicy"], "All");
  EXPECT_EQ(rp["ttlSecondsAfterFinished"], 60);
  EXPECT_EQ(rp["activeDeadlineSeconds"], 3600);
  EXPECT_EQ(rp["backoffLimit"], 4);
  EXPECT_EQ(rp["schedulingPolicy"]["queue"], "q1");
  ASSERT_EQ(result.warnings.size(), 5u);
  EXPECT_EQ(result.warnings[0],
            "spec.cleanPodPolicy is deprecated: moved to spec.runPolicy.cleanPodPolicy");
}

TEST(DefaultsTest, RunPolicyValueWinsOverALegacyKey) {
  Json in = MinimalJob(JobKind::kTFJob);
  in["spec"]["backoffLimit"] = 4;
  in["spec"]["runPolicy"] = {{"backoffLimit", 9}};
  DefaultingResult result;
  Json out = Defaulted(in, &result);
  EXPECT_EQ(out["spec"]["runPolicy"]["backoffLimit"], 9);
  EXPECT_FALSE(out["spec"].contains("backoffLimit"));
  EXPECT_THAT(result.warnings, ElementsAre(HasSubstr("ignored")));
}

TEST(DefaultsTest, EffectiveRunPolicyReadsLegacyKeysWithoutDefaulting) {
  Json in = MinimalJob(JobKind::kTFJob);
  in["spec"]["cleanPodPolicy"] = "Running";
  in["spec"]["runPolicy"] = {{"backoffLimit", 2}};
  RunPolicy p = EffectiveRunPolicy(MustParse(in).spec);
  EXPECT_EQ(p.clean_pod_policy, "Running");
  EXPECT_EQ(p.backoff_limit, 2);
}

TEST(DefaultsTest, MpiWorkerWithoutReplicasGetsZeroAndTheLauncherOne) {
  Json in = MinimalJob(JobKind::kMPIJob);
  in["spec"]["mpiReplicaSpecs"]["Launcher"].erase("replicas");
  in["spec"]["mpiReplicaSpecs"]["Worker"].erase("replicas");
  Json out = Defaulted(in);
  EXPECT_EQ(out["spec"]["mpiReplicaSpecs"]["Launcher"]["replicas"], 1);
  EXPECT_EQ(out["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"], 0);
}

TEST(DefaultsTest, MpiLowerCaseWorkerWithoutReplicasGetsZeroToo) {
  Json in = MinimalJob(JobKind::kMPIJob);
  Json worker = in["spec"]["mpiReplicaSpecs"]["Worker"];
  worker.erase("replicas");
  in["spec"]["mpiReplicaSpecs"].erase("Worker");
  in["spec"]["mpiReplicaSpecs"]["worker"] = worker;
  EXPECT_EQ(Defaulted(in)["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"], 0);
}

// Absent means 1 to the reconciler; writing it would only make a patch.
TEST(DefaultsTest, MpiSlotsPerWorkerAndMainContainerStayAbsent) {
  Json out = Defaulted(MinimalJob(JobKind::kMPIJob));
  EXPECT_FALSE(out["spec"].contains("slotsPerWorker"));
  EXPECT_FALSE(out["spec"].contains("mainContainer"));
}

TEST(DefaultsTest, MpiLegacyCleanPodPolicyMovesIntoRunPolicy) {
  Json in = MinimalJob(JobKind::kMPIJob);
  in["spec"]["cleanPodPolicy"] = "Running";
  DefaultingResult result;
  Json out = Defaulted(in, &result);
  EXPECT_FALSE(out["spec"].contains("cleanPodPolicy"));
  EXPECT_EQ(out["spec"]["runPolicy"]["cleanPodPolicy"], "Running");
  EXPECT_THAT(result.warnings,
              ElementsAre("spec.cleanPodPolicy is deprecated: moved to "
                          "spec.runPolicy.cleanPodPolicy"));
}

TEST(DefaultsTest, MpiRunPolicyCleanPodPolicyWinsOverTheLegacyKey) {
  Json in = MinimalJob(JobKind::kMPIJob);
  in["spec"]["cleanPodPolicy"] = "All";
  in["spec"]["runPolicy"] = {{"cleanPodPolicy", "Running"}};
  DefaultingResult result;
  Json out = Defaulted(in, &result);
  EXPECT_EQ(out["spec"]["runPolicy"]["cleanPodPolicy"], "Running");
  EXPECT_FALSE(out["spec"].contains("cleanPodPolicy"));
  EXPECT_THAT(result.warnings, ElementsAre(HasSubstr("ignored")));
  // Undefaulted, the reconciler reads the same winner.
  EXPECT_EQ(EffectiveRunPolicy(MustParse(in).spec).clean_pod_policy, "Running");
}

TEST(DefaultsTest, MpiAddsNoPortEvenToAContainerNamedLikeAnotherKinds) {
  Json in = MinimalJob(JobKind::kMPIJob);
  in["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["name"] = "mpi";
  Json out = Defaulted(in);
  for (const char* type : {"Launcher", "Worker"}) {
    EXPECT_FALSE(
        out["spec"]["mpiReplicaSpecs"][type]["template"]["spec"]["containers"][0].contains("ports"))
        << type;
  }
}

TEST(DefaultsTest, PaddleElasticPolicyMinAndMaxCopyEachOtherOrTheWorkerReplicas) {
  Json in = MinimalJob(JobKind::kPaddleJob);
  in["spec"]["elasticPolicy"] = {{"maxReplicas", 5}};
  EXPECT_EQ(Defaulted(in)["spec"]["elasticPolicy"]["minReplicas"], 5);
  in["spec"]["elasticPolicy"] = {{"minReplicas", 3}};
  EXPECT_EQ(Defaulted(in)["spec"]["elasticPolicy"]["maxReplicas"], 3);
  in["spec"]["elasticPolicy"] = Json::object();
  Json out = Defaulted(in);
  EXPECT_EQ(out["spec"]["elasticPolicy"]["minReplicas"], 2);  // Worker replicas
  EXPECT_EQ(out["spec"]["elasticPolicy"]["maxReplicas"], 2);
  EXPECT_EQ(Json::diff(out, Defaulted(out)), Json::array());
}

// The reference crashes here; validation refuses the policy instead.
TEST(DefaultsTest, PaddleElasticPolicyWithoutAWorkerKeepsItsBoundsMissing) {
  Json in = MinimalJob(JobKind::kPaddleJob);
  in["spec"]["paddleReplicaSpecs"].erase("Worker");
  in["spec"]["elasticPolicy"] = Json::object();
  EXPECT_EQ(Defaulted(in)["spec"]["elasticPolicy"], Json::object());
}

TEST(DefaultsTest, PaddleAndJaxPortsGoOnTheirFrameworkContainerElseTheFirst) {
  Json paddle = MinimalJob(JobKind::kPaddleJob);
  Json& containers =
      paddle["spec"]["paddleReplicaSpecs"]["Worker"]["template"]["spec"]["containers"];
  containers = Json::array({{{"name", "sidecar"}, {"image", "x"}},
                            {{"name", "paddle"}, {"image", "y"}}});
  Json out = Defaulted(paddle);
  const Json& worker = out["spec"]["paddleReplicaSpecs"]["Worker"]["template"]["spec"]["containers"];
  EXPECT_FALSE(worker[0].contains("ports"));
  EXPECT_EQ(worker[1]["ports"], Json::parse(R"([{"name":"master","containerPort":36543}])"));
  Json jax = MinimalJob(JobKind::kJAXJob);
  jax["spec"]["jaxReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["name"] = "main";
  EXPECT_EQ(Defaulted(jax)["spec"]["jaxReplicaSpecs"]["Worker"]["template"]["spec"]["containers"]
               [0]["ports"],
            Json::parse(R"([{"name":"jaxjob-port","containerPort":6666}])"));
}

}  // namespace
}  // namespace kubedl::api
