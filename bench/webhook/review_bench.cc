// In-process cost of one AdmissionReview (parse, default, validate or diff, encode) for the
// realistic TFJob body of make_body.py, without TLS or HTTP.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "kubedl/api/pod_schema.h"
#include "services/webhook/admission_reviewer.h"

namespace {

// `keys` more annotations on the job: the cost on objects with very many keys.
std::string Body(int64_t keys = 0) {
  std::string path = "/tmp/kubedl-review-bench-body-" + std::to_string(keys) + ".json";
  std::string cmd =
      "python3 " KUBEDL_BENCH_DIR "/make_body.py " + path + " " + std::to_string(keys);
  if (std::system(cmd.c_str()) != 0) return "";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void BM_Review(benchmark::State& state, kubedl::webhook::WebhookType type) {
  static const std::string body = Body();
  const auto& kind = kubedl::api::Describe(kubedl::api::JobKind::kTFJob);
  for (auto _ : state) {
    auto outcome = kubedl::webhook::Review(type, kind, body);
    benchmark::DoNotOptimize(outcome);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK_CAPTURE(BM_Review, validate, kubedl::webhook::WebhookType::kValidate);
BENCHMARK_CAPTURE(BM_Review, mutate, kubedl::webhook::WebhookType::kMutate);

// A job with state.range(0) annotations: each review must stay linear in the object's size.
void BM_ReviewManyKeys(benchmark::State& state, kubedl::webhook::WebhookType type) {
  const std::string body = Body(state.range(0));
  const auto& kind = kubedl::api::Describe(kubedl::api::JobKind::kTFJob);
  for (auto _ : state) {
    auto outcome = kubedl::webhook::Review(type, kind, body);
    benchmark::DoNotOptimize(outcome);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK_CAPTURE(BM_ReviewManyKeys, validate, kubedl::webhook::WebhookType::kValidate)
    ->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReviewManyKeys, mutate, kubedl::webhook::WebhookType::kMutate)
    ->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

// The validating review with each Pod schema, side by side in one process (robust to a loaded
// machine): 0 = a schema that checks nothing (the review as it was before templates were checked
// against the Pod schema), 1 = the built-in schema (what BM_Review/validate uses), 2 = the API
// server's: $KUBEDL_BENCH_OPENAPI names a saved /openapi/v3/api/v1 document
// (`kubectl get --raw /openapi/v3/api/v1 > v1.json`); skipped without it.
std::shared_ptr<const kubedl::api::PodSchema> BenchSchema(int64_t which) {
  if (which == 1) return kubedl::api::PodSchema::BuiltIn();
  kubedl::api::Json document = kubedl::api::Json::parse(
      R"({"components": {"schemas": {"io.k8s.api.core.v1.PodTemplateSpec": {}}}})");
  if (which == 2) {
    const char* path = std::getenv("KUBEDL_BENCH_OPENAPI");
    if (path == nullptr) return nullptr;
    std::ifstream in(path);
    document = kubedl::api::Json::parse(in, nullptr, /*allow_exceptions=*/false);
  }
  auto compiled = kubedl::api::PodSchema::FromOpenApiV3(document);
  return compiled.ok() ? *compiled : nullptr;
}

void BM_ValidateWithSchema(benchmark::State& state) {
  static const std::string body = Body();
  std::shared_ptr<const kubedl::api::PodSchema> schema = BenchSchema(state.range(0));
  if (schema == nullptr) {
    state.SkipWithError("set KUBEDL_BENCH_OPENAPI to a saved /openapi/v3/api/v1 document");
    return;
  }
  const auto& kind = kubedl::api::Describe(kubedl::api::JobKind::kTFJob);
  for (auto _ : state) {
    auto outcome = kubedl::webhook::Review(kubedl::webhook::WebhookType::kValidate, kind, body,
                                           {.pod_schema = schema.get()});
    benchmark::DoNotOptimize(outcome);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ValidateWithSchema)->Arg(0)->Arg(1)->Arg(2);

// The schema check alone, on the body's two templates (1 = built-in, 2 = served schema).
void BM_CheckTemplates(benchmark::State& state) {
  static const std::string body = Body();
  const kubedl::api::Json review = kubedl::api::Json::parse(body);
  const kubedl::api::Json& replicas = review["request"]["object"]["spec"]["tfReplicaSpecs"];
  std::shared_ptr<const kubedl::api::PodSchema> schema = BenchSchema(state.range(0));
  if (schema == nullptr) {
    state.SkipWithError("set KUBEDL_BENCH_OPENAPI to a saved /openapi/v3/api/v1 document");
    return;
  }
  for (auto _ : state) {
    kubedl::api::FieldErrors errors;
    for (const auto& [type, replica] : replicas.items()) {
      schema->Check(replica["template"], "spec.tfReplicaSpecs[x].template", &errors);
    }
    benchmark::DoNotOptimize(errors);
  }
}
BENCHMARK(BM_CheckTemplates)->Arg(1)->Arg(2);

}  // namespace

BENCHMARK_MAIN();
