// PodSchema: templates checked against the Pod schema (types, required fields, enums), the
// OpenAPI v3 compiler, and PodSchemaSource's fallback and refresh.
#include "kubedl/api/pod_schema.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/api/pod_schema_source.h"
#include "kubedl/api/validation.h"
#include "pod_schema_fixtures.h"
#include "yaml_json.h"

namespace kubedl::api {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kComplexTemplate;
using testing::kPoison;
using testing::Validate;


Json Yaml(const std::string& text) { return testing::YamlToJson(YAML::Load(text)); }

// A TFJob whose Worker template spec is `spec` (YAML).
Json JobWithSpec(const std::string& spec) {
  Json job = Yaml(kPoison);
  job["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"] = Yaml(spec);
  return job;
}

std::vector<std::string> Check(const PodSchema& schema, const Json& pod_template) {
  FieldErrors errors;
  schema.Check(pod_template, "t", &errors);
  std::vector<std::string> out;
  for (const FieldError& e : errors) out.push_back(e.ToString());
  return out;
}

constexpr char kWorker[] = "spec.tfReplicaSpecs[Worker].template.spec.containers[0]";

TEST(PodSchemaTest, PoisonContainerPortGivenAsAStringIsRefusedWithItsFieldPath) {
  EXPECT_THAT(Validate(Yaml(kPoison)),
              ElementsAre(std::string(kWorker) +
                          ".ports[0].containerPort: Invalid value: \"2222\": must be of type "
                          "integer"));
}

TEST(PodSchemaTest, EnvThatIsNotAListIsRefused) {
  EXPECT_THAT(Validate(JobWithSpec(
                  "containers: [{name: tensorflow, image: busybox, env: {A: b}}]")),
              ElementsAre(std::string(kWorker) +
                          ".env: Invalid value: \"object\": must be of type array"));
}

TEST(PodSchemaTest, AnArgsEntryThatIsNotAStringIsRefused) {
  EXPECT_THAT(Validate(JobWithSpec(
                  "containers: [{name: tensorflow, image: busybox, args: [--steps, 10]}]")),
              ElementsAre(std::string(kWorker) +
                          ".args[1]: Invalid value: 10: must be of type string"));
}

TEST(PodSchemaTest, NodeSelectorThatIsNotAMapOfStringsIsRefused) {
  EXPECT_THAT(
      Validate(JobWithSpec("containers: [{name: tensorflow, image: busybox}]\n"
                           "nodeSelector: [gpu]")),
      ElementsAre("spec.tfReplicaSpecs[Worker].template.spec.nodeSelector: Invalid value: "
                  "\"array\": must be of type object"));
  EXPECT_THAT(
      Validate(JobWithSpec("containers: [{name: tensorflow, image: busybox}]\n"
                           "nodeSelector: {gpu: true}")),
      ElementsAre("spec.tfReplicaSpecs[Worker].template.spec.nodeSelector[gpu]: Invalid value: "
                  "true: must be of type string"));
}

TEST(PodSchemaTest, AProtocolOutsideTheEnumIsNotSupported) {
  EXPECT_THAT(Validate(JobWithSpec("containers: [{name: tensorflow, image: busybox, ports: "
                                   "[{name: tfjob-port, containerPort: 2222, protocol: HTTP}]}]")),
              ElementsAre(std::string(kWorker) +
                          ".ports[0].protocol: Unsupported value: \"HTTP\": supported values: "
                          "\"TCP\", \"UDP\", \"SCTP\""));
}

TEST(PodSchemaTest, APortWithoutContainerPortIsRequired) {
  EXPECT_THAT(Validate(JobWithSpec("containers: [{name: tensorflow, image: busybox, ports: "
                                   "[{name: tfjob-port}]}]")),
              ElementsAre(std::string(kWorker) + ".ports[0].containerPort: Required value"));
}

TEST(PodSchemaTest, ProblemsTheContainerChecksReportAreNotReportedTwice) {
  // A missing name, ports that are not a list, a spec that is not an object: one message each.
  EXPECT_THAT(Validate(JobWithSpec("containers: [{name: tensorflow, image: busybox}, "
                                   "{image: busybox, ports: 5}]")),
              ElementsAre("spec.tfReplicaSpecs[Worker].template.spec.containers[1].name: "
                          "Required value",
                          "spec.tfReplicaSpecs[Worker].template.spec.containers[1].ports: "
                          "Invalid value: 5: must be of type array"));
  Json job = Yaml(kPoison);
  job["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"] = "x";
  EXPECT_THAT(Validate(job),
              ElementsAre("spec.tfReplicaSpecs[Worker].template.spec: Invalid value: \"x\": must "
                          "be of type object"));
}

TEST(PodSchemaTest, EveryExampleJobPassesValidation) {
  int templates = 0;
  for (const auto& entry : std::filesystem::directory_iterator(KUBEDL_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    for (const Json& object : testing::YamlFileToJson(entry.path().string())) {
      if (!FindKind(object.value("apiVersion", ""), object.value("kind", ""))) continue;
      EXPECT_THAT(Validate(object), IsEmpty()) << entry.path();
      ++templates;
    }
  }
  EXPECT_GE(templates, 5);
}


TEST(PodSchemaTest, AComplexValidTemplateHasNoError) {
  EXPECT_THAT(Check(*PodSchema::BuiltIn(), Yaml(kComplexTemplate)), IsEmpty());
}

TEST(PodSchemaTest, NullIsAbsentAndAnEmptyEnumValueMeansTheDefault) {
  EXPECT_THAT(Check(*PodSchema::BuiltIn(),
                    Yaml("spec: {containers: [{name: a, image: b, imagePullPolicy: '', "
                         "env: null, ports: [{containerPort: 1, protocol: null}]}]}")),
              IsEmpty());
}

TEST(PodSchemaTest, FieldsTheReconcilerOverwritesAreNotChecked) {
  // metadata.name/namespace and spec.restartPolicy are replaced when the pod is built.
  EXPECT_THAT(Check(*PodSchema::BuiltIn(),
                    Yaml("metadata: {name: 5, namespace: [x]}\n"
                         "spec: {restartPolicy: ExitCode, containers: [{name: a, image: b}]}")),
              IsEmpty());
}

TEST(PodSchemaTest, QuantitiesAreStringsOfTheQuantityGrammarOrNumbers) {
  auto with = [](const std::string& value) {
    return Yaml("spec: {containers: [{name: a, resources: {limits: {memory: " + value +
                "}}}]}");
  };
  for (const char* ok : {"1Gi", "500m", "'1.5'", "1e3", "2", "0.5", "'+1E-3'", "'  2Ki '"}) {
    EXPECT_THAT(Check(*PodSchema::BuiltIn(), with(ok)), IsEmpty()) << ok;
  }
  for (const char* bad : {"1GB", "abc", "''", "'1.2.3'", "'5e'", "[1]", "true"}) {
    EXPECT_THAT(Check(*PodSchema::BuiltIn(), with(bad)), ::testing::SizeIs(1)) << bad;
  }
}

TEST(PodSchemaTest, Int32FieldsRefuseLargerNumbersAndFractions) {
  EXPECT_THAT(Check(*PodSchema::BuiltIn(),
                    Yaml("spec: {containers: [{name: a, ports: [{containerPort: 2147483648}, "
                         "{containerPort: 80.5}, {containerPort: true}]}]}")),
              ElementsAre("t.spec.containers[0].ports[0].containerPort: Invalid value: "
                          "2147483648: must be a 32-bit integer",
                          "t.spec.containers[0].ports[1].containerPort: Invalid value: 80.5: "
                          "must be of type integer",
                          "t.spec.containers[0].ports[2].containerPort: Invalid value: true: "
                          "must be of type integer"));
}

TEST(PodSchemaTest, AHugeBadTemplateReportsAtMostTheCap) {
  Json args = Json::array();
  for (int i = 0; i < 500; ++i) args.push_back(i);
  Json tmpl = Yaml("spec: {containers: [{name: a}]}");
  tmpl["spec"]["containers"][0]["args"] = args;
  EXPECT_EQ(Check(*PodSchema::BuiltIn(), tmpl).size(), PodSchema::kMaxErrorsPerTemplate);
}

// The shape of the API server's document: every $ref wrapped in allOf, maps as
// additionalProperties, IntOrString and Quantity by name, enums, required.
constexpr char kSmallDocument[] = R"({"openapi": "3.0.0", "components": {"schemas": {
  "io.k8s.api.core.v1.PodTemplateSpec": {"type": "object", "properties": {
    "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}], "default": {}},
    "spec": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}], "default": {}}}},
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {
    "name": {"type": "string"},
    "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}}}},
  "io.k8s.api.core.v1.PodSpec": {"type": "object", "required": ["containers"], "properties": {
    "containers": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}], "default": {}}},
    "restartPolicy": {"type": "string", "enum": ["Always", "Never", "OnFailure"]},
    "overhead": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}},
    "hostNetwork": {"type": "boolean"},
    "extra": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "self": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]}}},
  "io.k8s.api.core.v1.Container": {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "default": ""},
    "port": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]},
    "weight": {"type": "number", "format": "double"},
    "count": {"type": "integer", "format": "int64"},
    "policy": {"type": "string", "enum": ["A", "B"]},
    "headers": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.HTTPHeader"}]}}}},
  "io.k8s.api.core.v1.HTTPHeader": {"type": "object", "required": ["name", "value"], "properties": {
    "name": {"type": "string"}, "value": {"type": "string"}}},
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
  "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"}
}}})";

TEST(PodSchemaTest, AnOpenApiV3DocumentCompilesIntoTheChecks) {
  auto schema = PodSchema::FromOpenApiV3(Json::parse(kSmallDocument));
  ASSERT_TRUE(schema.ok()) << schema.status();
  EXPECT_EQ((*schema)->origin(), "openapi-v3");
  EXPECT_THAT(Check(**schema, Yaml(R"(
metadata: {name: x, labels: {a: b}}
spec:
  restartPolicy: Sometimes
  overhead: {cpu: 1, memory: 1Gi}
  extra: [anything]
  containers:
  - {name: a, port: 80, weight: 0.5, count: 9000000000, policy: A, headers: [{name: X}]}
  - {name: b, port: http, weight: 1, policy: ""}
)")),
              IsEmpty());
  EXPECT_THAT(Check(**schema, Yaml(R"(
metadata: {labels: {a: 1}}
spec:
  hostNetwork: "yes"
  overhead: {cpu: 1GB}
  containers:
  - {port: 1.5, weight: x, count: "1", policy: C}
)")),
              ElementsAre("t.metadata.labels[a]: Invalid value: 1: must be of type string",
                          "t.spec.hostNetwork: Invalid value: \"yes\": must be of type boolean",
                          ::testing::StartsWith("t.spec.overhead[cpu]: Invalid value: \"1GB\": "
                                                "must be a quantity"),
                          "t.spec.containers[0].port: Invalid value: 1.5: must be an integer or "
                          "a string",
                          "t.spec.containers[0].weight: Invalid value: \"x\": must be of type "
                          "number",
                          "t.spec.containers[0].count: Invalid value: \"1\": must be of type "
                          "integer",
                          "t.spec.containers[0].policy: Unsupported value: \"C\": supported "
                          "values: \"A\", \"B\"",
                          "t.spec.containers[0].name: Required value"));
  // The served PodSpec's own required field, and the same through plain nlohmann::json.
  auto plain = PodSchema::FromOpenApiV3(nlohmann::json::parse(kSmallDocument));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_THAT(Check(**plain, Yaml("spec: {hostNetwork: true}")),
              ElementsAre("t.spec.containers: Required value"));
}

TEST(PodSchemaTest, ASelfReferenceCompilesAndADeepTemplateIsWalkedSafely) {
  auto schema = PodSchema::FromOpenApiV3(Json::parse(kSmallDocument));
  ASSERT_TRUE(schema.ok()) << schema.status();
  Json tmpl = Json::object();
  Json* spec = &tmpl["spec"];
  for (int i = 0; i < 1000; ++i) {
    (*spec)["containers"] = Json::array({{{"name", "a"}}});
    spec = &(*spec)["self"];
  }
  (*spec)["hostNetwork"] = "deep";  // below the depth cap: not reached, no crash
  EXPECT_THAT(Check(**schema, tmpl), IsEmpty());
}

TEST(PodSchemaTest, ADocumentWithoutPodTemplateSpecIsRefused) {
  auto schema = PodSchema::FromOpenApiV3(Json::parse(R"({"components": {"schemas": {}}})"));
  EXPECT_EQ(schema.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(PodSchema::FromOpenApiV3(Json::parse("[]")).ok());
}

TEST(PodSchemaTest, TheBuiltInSchemaIsUsedWhenNoneIsGiven) {
  EXPECT_EQ(PodSchema::BuiltIn()->origin(), "built-in");
  auto served = PodSchema::FromOpenApiV3(Json::parse(kSmallDocument));
  ASSERT_TRUE(served.ok());
  // The small document knows no ports: the poison passes it, and not the built-in one.
  EXPECT_THAT(Validate(Yaml(kPoison), served->get()), IsEmpty());
  EXPECT_THAT(Validate(Yaml(kPoison), nullptr), ::testing::SizeIs(1));
}

TEST(PodSchemaSourceTest, WithoutAnApiServerTheBuiltInSchemaIsCurrent) {
  PodSchemaSource source;
  EXPECT_EQ(source.Current()->origin(), "built-in");
  EXPECT_FALSE(source.Refresh().ok());
  EXPECT_EQ(source.Current()->origin(), "built-in");
}

TEST(PodSchemaSourceTest, AFailedFetchFallsBackToBuiltInAndALaterRefreshTakesTheServedOne) {
  std::atomic<bool> up{false};
  std::atomic<int> documents{0};
  PodSchemaFetcher fetcher;
  fetcher.version = [&]() -> absl::StatusOr<std::string> {
    if (!up) return absl::UnavailableError("down");
    return std::string("/openapi/v3/api/v1?hash=1");
  };
  fetcher.document = [&](const std::string& version) -> absl::StatusOr<nlohmann::json> {
    if (!up) return absl::UnavailableError("down");
    EXPECT_EQ(version, "/openapi/v3/api/v1?hash=1");
    ++documents;
    return nlohmann::json::parse(kSmallDocument);
  };
  PodSchemaSource source(fetcher, {.refresh_interval = absl::ZeroDuration()});
  EXPECT_EQ(source.Current()->origin(), "built-in");
  up = true;
  EXPECT_TRUE(source.Refresh().ok());
  EXPECT_EQ(source.Current()->origin(), "openapi-v3");
  std::shared_ptr<const PodSchema> held = source.Current();
  // Unchanged version: the document is not read again.
  EXPECT_TRUE(source.Refresh().ok());
  EXPECT_EQ(documents, 1);
  EXPECT_EQ(source.Current(), held);
  // Down again: the last good schema stays.
  up = false;
  EXPECT_EQ(source.Refresh().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(source.Current(), held);
}

TEST(PodSchemaSourceTest, ABadDocumentKeepsTheLastGoodSchemaAndTheThreadRefreshes) {
  std::atomic<int> version{0};
  PodSchemaFetcher fetcher;
  fetcher.version = [&]() -> absl::StatusOr<std::string> {
    return std::to_string(version.load());
  };
  fetcher.document = [&](const std::string& v) -> absl::StatusOr<nlohmann::json> {
    if (v == "1") return nlohmann::json::parse(R"({"components": {"schemas": {}}})");
    return nlohmann::json::parse(kSmallDocument);
  };
  PodSchemaSource source(fetcher, {.refresh_interval = absl::Milliseconds(5)});
  std::shared_ptr<const PodSchema> first = source.Current();
  EXPECT_EQ(first->origin(), "openapi-v3");
  version = 1;  // a document without PodTemplateSpec: refused, the first one stays
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(source.Current(), first);
  version = 2;
  for (int i = 0; i < 400 && source.Current() == first; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_NE(source.Current(), first);
  EXPECT_EQ(source.Current()->origin(), "openapi-v3");
}

}  // namespace
}  // namespace kubedl::api
