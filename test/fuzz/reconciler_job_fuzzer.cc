// libFuzzer target (issue 13): a job through two reconcile passes on the in-memory cluster of the
// reconciler's unit tests. Input starting with '{' is the job object itself (JSON; identity
// fields the API server guarantees are filled in); anything else drives the odd-job generator
// (test/services/reconciler/odd_job_generator.h) one byte per choice.
//
// A crash is: an exception escaping JobReconciler::Reconcile, one caught by its error barrier
// (the inputs are data, so a throw is a bug), a job that ends with neither pods nor a condition
// explaining why, or, for generated jobs, a verdict the generator knows that the reconciler
// contradicts (a valid job refused, an invalid one run).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "core/parallel_runner.h"
#include "glog/logging.h"
#include "kubedl/api/json.h"
#include "kubedl/api/kind.h"
#include "odd_job_generator.h"
#include "odd_job_harness.h"

namespace {

using kubedl::api::Json;
using kubedl::reconciler::testing::ByteChoices;
using kubedl::reconciler::testing::EndName;
using kubedl::reconciler::testing::GenerateOddJob;
using kubedl::reconciler::testing::JobOutcome;
using kubedl::reconciler::testing::OddJob;
using kubedl::reconciler::testing::OddJobRun;

// The creates of a batch one after another: deterministic, and no threads for libFuzzer.
class InlineRunner final : public kubedl::reconciler::ParallelRunner {
 public:
  void RunAll(size_t n, const std::function<void(size_t)>& fn) override {
    for (size_t i = 0; i < n; ++i) fn(i);
  }
};

bool ApiServerAcceptsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(name.front())) &&
         std::isalnum(static_cast<unsigned char>(name.back()));
}

// The raw object as the informer would hand it over: whatever the body, metadata has a name the
// API server accepts, the namespace and a uid; an unknown kind becomes a TFJob.
const kubedl::api::KindDescriptor& AsStored(Json& job) {
  const kubedl::api::KindDescriptor* kind = nullptr;
  if (job.contains("apiVersion") && job["apiVersion"].is_string() && job.contains("kind") &&
      job["kind"].is_string()) {
    kind = kubedl::api::FindKind(job["apiVersion"].get<std::string>(),
                                 job["kind"].get<std::string>());
  }
  if (kind == nullptr) {
    kind = &kubedl::api::Describe(kubedl::api::JobKind::kTFJob);
    job["apiVersion"] = std::string(kind->api_version);
    job["kind"] = std::string(kind->name);
  }
  Json& meta = job["metadata"];
  if (!meta.is_object()) meta = Json::object();
  if (!meta.contains("name") || !meta["name"].is_string() ||
      !ApiServerAcceptsName(meta["name"].get<std::string>())) {
    meta["name"] = "fuzz";
  }
  meta["namespace"] = "ns";
  meta["uid"] = "uid-fuzz";
  meta["resourceVersion"] = "1";
  meta.erase("deletionTimestamp");
  return *kind;
}

[[noreturn]] void Fail(const char* what, const std::string& job, const JobOutcome& out) {
  std::fprintf(stderr, "reconciler_job_fuzzer: %s\njob: %s\noutcome: %s: %s\n", what,
               job.substr(0, 4000).c_str(), EndName(out.end), out.Summary().substr(0, 4000).c_str());
  __builtin_trap();
}

}  // namespace

// The reconciler logs a warning for each invalid job: noise here, and slow. Errors (the error
// barrier's) still show.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  FLAGS_minloglevel = google::GLOG_ERROR;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static InlineRunner runner;
  OddJobRun run(runner);
  Json job;
  kubedl::api::JobKind kind;
  const OddJob* generated = nullptr;
  OddJob odd;
  if (size > 0 && data[0] == '{') {
    job = Json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr,
                      /*allow_exceptions=*/false);
    if (job.is_discarded() || !job.is_object()) return 0;
    kind = AsStored(job).kind;
  } else {
    ByteChoices choices(data, size);
    odd = GenerateOddJob(choices);
    job = odd.object;
    kind = odd.kind;
    generated = &odd;
  }
  const JobOutcome out = run.Run(job, kind, /*passes=*/2);
  auto text = [&] {
    return generated ? generated->Describe()
                     : job.dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  if (!out.escaped.empty()) Fail("an exception escaped Reconcile", text(), out);
  if (out.barrier_catches > 0) Fail("the error barrier caught an exception", text(), out);
  if (out.end == JobOutcome::End::kNothing) {
    Fail("the job ended with neither pods nor a condition", text(), out);
  }
  if (generated != nullptr) {
    if (generated->verdict == OddJob::Verdict::kRefused &&
        out.end != JobOutcome::End::kInvalidSpec) {
      Fail("an invalid job was not refused", text(), out);
    }
    if (generated->verdict == OddJob::Verdict::kRuns &&
        out.end == JobOutcome::End::kInvalidSpec) {
      Fail("a valid job was refused", text(), out);
    }
  }
  return 0;
}
