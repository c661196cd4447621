// In-process cost of one AdmissionReview (parse, default, validate or diff, encode) for the
// realistic TFJob body of make_body.py, without TLS or HTTP.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "services/webhook/admission_reviewer.h"

namespace {

std::string Body() {
  std::string path = "/tmp/kubedl-review-bench-body.json";
  std::string cmd = "python3 " KUBEDL_BENCH_DIR "/make_body.py " + path;
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

}  // namespace

BENCHMARK_MAIN();
