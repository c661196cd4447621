// Issue 13, "no job, however malformed, can stop a service": ten thousand generated jobs that the
// CRD schemas accept but whose templates, numbers, names and types are odd, each through three
// reconcile passes on a fresh in-memory cluster (pods go Running after the first). Nothing may
// escape the reconciler or need its error barrier, and every job must end with its pods or with
// a condition that explains it; where the generator knows a job is valid or invalid, the
// reconciler must agree.
//
// KUBEDL_PROPERTY_SEED and KUBEDL_PROPERTY_JOBS change the seed and the number of jobs; a failure
// names the job's seed, so `KUBEDL_PROPERTY_SEED=<that seed> KUBEDL_PROPERTY_JOBS=1` replays it
// alone (KUBEDL_PROPERTY_VERBOSE=1 prints every job and how it ended).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/thread_pool_parallel_runner.h"
#include "glog/logging.h"
#include "gtest/gtest.h"
#include "odd_job_generator.h"
#include "core/framework.h"
#include "kubedl/api/conditions.h"
#include "odd_job_harness.h"

namespace kubedl::reconciler::testing {
namespace {

constexpr int kPasses = 3;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// "spec.tfReplicaSpecs[Worker].replicas", "metadata.name", "kind" (a job that does not parse).
bool NamesAFieldPath(const std::string& message) {
  static const std::regex path(R"((^|[\s\[:,])(spec|metadata|status)(\.[A-Za-z]|\[|:))");
  return std::regex_search(message, path);
}

bool HasWarning(const JobOutcome& out, const std::string& reason) {
  for (const auto& e : out.events) {
    if (e.type == "Warning" && e.reason == reason) return true;
  }
  return false;
}

// A headless Service per pod, for the kinds that have them (not MPI).
size_t ExpectedServices(const OddJob& job) {
  return FrameworkFor(job.kind).HeadlessServices() ? static_cast<size_t>(job.expected_pods) : 0;
}

TEST(ReconcilerPropertyTest, GeneratorIsDeterministicAndCoversEveryKindAndVerdict) {
  std::map<std::string, int> seen;
  for (uint64_t i = 0; i < 2000; ++i) {
    SeededChoices a(i), b(i);
    OddJob x = GenerateOddJob(a), y = GenerateOddJob(b);
    ASSERT_EQ(x.object, y.object) << i;
    ASSERT_EQ(x.verdict, y.verdict) << i;
    ++seen[std::string(api::Describe(x.kind).name)];
    ++seen[VerdictName(x.verdict)];
    if (!x.within_crd_schema) ++seen["beyond"];
  }
  for (const char* key : {"TFJob", "PyTorchJob", "XGBoostJob", "XDLJob", "runs", "refused",
                          "either", "beyond"}) {
    EXPECT_GT(seen[key], 20) << key;
  }
  // Fuzzer bytes that run out mean the plainest choices, never a crash.
  ByteChoices none(nullptr, 0);
  OddJob plain = GenerateOddJob(none);
  EXPECT_EQ(plain.verdict, OddJob::Verdict::kRuns) << plain.Describe();
}

TEST(ReconcilerPropertyTest, TenThousandOddJobsNeverCrashAndEachEndsWithPodsOrACondition) {
  const uint64_t seed = EnvOr("KUBEDL_PROPERTY_SEED", 13'2026'11'30);
  const uint64_t jobs = EnvOr("KUBEDL_PROPERTY_JOBS", 10'000);
  const bool verbose = EnvOr("KUBEDL_PROPERTY_VERBOSE", 0) != 0;  // every job and its end
  // The reconciler logs a warning per invalid job: thousands of lines that say nothing here.
  const int32_t log_level = FLAGS_minloglevel;
  FLAGS_minloglevel = google::GLOG_ERROR;
  ThreadPoolParallelRunner runner(2);
  OddJobRun run(runner);

  std::map<std::string, int> ends, verdicts, problems;
  std::vector<std::string> examples;
  int crashes = 0, barrier = 0, beyond = 0;
  size_t pods = 0, services = 0;
  auto problem = [&](uint64_t index, const std::string& what, const OddJob& job,
                     const JobOutcome& out) {
    if (++problems[what] <= 3) {
      examples.push_back(absl::StrCat("#", index, " (seed ", seed + index, ") ", what, ": ",
                                      job.Describe(), "\n    -> ", EndName(out.end), ": ",
                                      out.Summary().substr(0, 1500)));
    }
  };

  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < jobs; ++i) {
    SeededChoices choices(seed + i);
    const OddJob job = GenerateOddJob(choices);
    const JobOutcome out = run.Run(job.object, job.kind, kPasses);
    if (verbose) {
      std::cout << "#" << i << " " << job.Describe() << "\n    -> " << EndName(out.end) << ": "
                << out.Summary().substr(0, 600) << "\n";
    }
    ++ends[EndName(out.end)];
    ++verdicts[VerdictName(job.verdict)];
    if (!job.within_crd_schema) ++beyond;
    pods += out.pods;
    services += out.services;
    if (!out.escaped.empty()) {
      ++crashes;
      problem(i, "an exception escaped Reconcile: " + out.escaped.substr(0, 80), job, out);
      continue;
    }
    if (out.barrier_catches > 0) {
      barrier += out.barrier_catches;
      problem(i, "the error barrier caught an exception", job, out);
    }
    if (!out.refusals.empty()) {
      problem(i, "the API server refused a pod or service the reconciler made", job, out);
    }
    switch (out.end) {
      case JobOutcome::End::kNothing:
        problem(i, "ended with neither pods nor an explaining condition", job, out);
        break;
      case JobOutcome::End::kInvalidSpec: {
        const std::string message = out.failed.value("message", std::string());
        if (!NamesAFieldPath(message)) problem(i, "FailedValidation without a field path", job, out);
        if (out.pod_creates + out.service_creates > 0) {
          problem(i, "FailedValidation after creating pods or services", job, out);
        }
        if (!HasWarning(out, api::ConditionReason(job.kind, "FailedValidation"))) {
          problem(i, "FailedValidation without a Warning event", job, out);
        }
        if (out.last_pass_retries) problem(i, "FailedValidation retried with backoff", job, out);
        break;
      }
      default:
        break;
    }
    switch (job.verdict) {
      case OddJob::Verdict::kRefused:
        if (out.end != JobOutcome::End::kInvalidSpec) {
          problem(i, "a job the generator made invalid was not refused", job, out);
        }
        break;
      case OddJob::Verdict::kRuns:
        if (out.end == JobOutcome::End::kInvalidSpec) {
          problem(i, "a valid job was refused", job, out);
        } else if (job.expected_pods > 0 &&
                   (out.pods != static_cast<size_t>(job.expected_pods) ||
                    out.services != ExpectedServices(job))) {
          problem(i, "a valid job did not get exactly its pods and services", job, out);
        }
        break;
      case OddJob::Verdict::kEither:
        break;
    }
  }
  FLAGS_minloglevel = log_level;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::string figures = absl::StrCat(
      "[property] seed ", seed, ": ", jobs, " jobs, ", jobs * kPasses, " passes in ",
      static_cast<int>(seconds), " s; crashes=", crashes, ", barrier catches=", barrier,
      "; beyond the CRD schema: ", beyond, "\n[property] generator verdicts:");
  for (const auto& [k, v] : verdicts) absl::StrAppend(&figures, " ", k, "=", v);
  absl::StrAppend(&figures, "\n[property] ended with:");
  for (const auto& [k, v] : ends) absl::StrAppend(&figures, " ", k, "=", v);
  absl::StrAppend(&figures, "; ", pods, " pods and ", services, " services created\n");
  for (const auto& [k, v] : problems) absl::StrAppend(&figures, "[property] PROBLEM ", v, "x ", k, "\n");
  std::cout << figures;
  for (const std::string& e : examples) std::cout << "  " << e << "\n";

  EXPECT_EQ(crashes, 0);
  EXPECT_EQ(barrier, 0);
  EXPECT_TRUE(problems.empty()) << "see the PROBLEM lines and examples above";
}

}  // namespace
}  // namespace kubedl::reconciler::testing
