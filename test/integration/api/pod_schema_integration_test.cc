// The Pod schema read from the real API server's /openapi/v3/api/v1: it compiles, refuses the
// poison template with its field path, and accepts every example job and a complex template.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/api/pod_schema.h"
#include "kubedl/api/pod_schema_source.h"
#include "kubedl/api/validation.h"
#include "kubedl/kube/config.h"
#include "kubedl/testing/cluster.h"
#include "pod_schema_fixtures.h"
#include "yaml_json.h"

namespace kubedl::api {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Validate;

std::shared_ptr<const PodSchema> ServedSchema() {
  auto client = kubedl::testing::ClientFromTestEnvironment();
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return nullptr;
  std::shared_ptr<kube::Client> shared = *std::move(client);
  PodSchemaFetcher fetcher = ApiServerPodSchemaFetcher(shared);
  // The version is the hashed URL the API server lists for api/v1.
  absl::StatusOr<std::string> version = fetcher.version();
  EXPECT_TRUE(version.ok()) << version.status();
  EXPECT_THAT(version.value_or(""), ::testing::StartsWith("/openapi/v3/api/v1?hash="));
  PodSchemaSource source(fetcher, {.refresh_interval = absl::ZeroDuration()});
  EXPECT_TRUE(source.Refresh().ok());
  return source.Current();
}

TEST(ServedPodSchemaTest, ThePoisonTemplateIsRefusedWithItsFieldPath) {
  std::shared_ptr<const PodSchema> schema = ServedSchema();
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->origin(), "openapi-v3");
  EXPECT_GT(schema->size(), 100u);  // the whole Pod, not the built-in subset
  EXPECT_THAT(Validate(testing::YamlToJson(YAML::Load(testing::kPoison)), schema.get()),
              ElementsAre("spec.tfReplicaSpecs[Worker].template.spec.containers[0].ports[0]."
                          "containerPort: Invalid value: \"2222\": must be of type integer"));
}

TEST(ServedPodSchemaTest, EveryExampleJobAndAComplexTemplateAreAccepted) {
  std::shared_ptr<const PodSchema> schema = ServedSchema();
  ASSERT_NE(schema, nullptr);
  int jobs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(KUBEDL_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    for (const Json& object : testing::YamlFileToJson(entry.path().string())) {
      if (!FindKind(object.value("apiVersion", ""), object.value("kind", ""))) continue;
      EXPECT_THAT(Validate(object, schema.get()), IsEmpty()) << entry.path();
      ++jobs;
    }
  }
  EXPECT_GE(jobs, 5);
  FieldErrors errors;
  schema->Check(testing::YamlToJson(YAML::Load(testing::kComplexTemplate)), "t", &errors);
  std::vector<std::string> messages;
  for (const FieldError& e : errors) messages.push_back(e.ToString());
  EXPECT_THAT(messages, IsEmpty());
}

TEST(ServedPodSchemaTest, TheServedSchemaChecksFieldsTheBuiltInOneDoesNotKnow) {
  std::shared_ptr<const PodSchema> schema = ServedSchema();
  ASSERT_NE(schema, nullptr);
  Json tmpl = testing::YamlToJson(YAML::Load(
      "spec: {containers: [{name: a, image: b}], dnsConfig: {nameservers: [1]}, "
      "readinessGates: [{}]}"));
  FieldErrors errors;
  schema->Check(tmpl, "t", &errors);
  std::vector<std::string> messages;
  for (const FieldError& e : errors) messages.push_back(e.ToString());
  EXPECT_THAT(messages, ElementsAre("t.spec.dnsConfig.nameservers[0]: Invalid value: 1: must be "
                                    "of type string",
                                    "t.spec.readinessGates[0].conditionType: Required value"));
  errors.clear();
  PodSchema::BuiltIn()->Check(tmpl, "t", &errors);
  EXPECT_THAT(errors, IsEmpty());
}

// The start-up path both services take: a working configuration gives the served schema at once;
// a broken one gives the built-in schema and a running service, never a crash.
TEST(ServedPodSchemaTest, TheStartUpSourceServesTheApiServersSchemaFromItsFirstFetch) {
  absl::StatusOr<kube::Config> config = kube::LoadKubeconfigFromEnv();
  ASSERT_TRUE(config.ok()) << config.status();
  std::unique_ptr<PodSchemaSource> source =
      NewApiServerPodSchemaSource(config, absl::ZeroDuration());
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->Current()->origin(), "openapi-v3");
}

TEST(ServedPodSchemaTest, TheStartUpSourceFallsBackToTheBuiltInSchemaWithoutAConfiguration) {
  std::unique_ptr<PodSchemaSource> source = NewApiServerPodSchemaSource(
      absl::StatusOr<kube::Config>(absl::NotFoundError("no kubeconfig")), absl::ZeroDuration());
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->Current()->origin(), PodSchemaSource().Current()->origin());
  EXPECT_NE(source->Current()->origin(), "openapi-v3");
}

}  // namespace
}  // namespace kubedl::api
