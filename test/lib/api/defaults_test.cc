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
  const char* port_name;
  int port;
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
    EXPECT_EQ(spec["replicas"], 1) << type;
    EXPECT_EQ(spec["restartPolicy"], want.restart_policy) << type;
    const Json& ports = spec["template"]["spec"]["containers"][0]["ports"];
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
                      KindDefaults{JobKind::kXDLJob, "Never", "Running", "xdljob-port", 2222}),
    [](const auto& info) { return std::string(Describe(info.param.kind).name); });

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

}  // namespace
}  // namespace kubedl::api
