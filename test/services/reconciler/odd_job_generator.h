#pragma once
// Jobs the CRD schemas accept but that no sane user would write: wrong JSON types anywhere in the
// pod templates (the CRDs keep templates as they are written), missing fields, huge and negative
// numbers, names that are too long themselves or make pod and service names too long, unknown
// and oddly-cased replica types, odd annotations and odd status. For the reconciler's property
// test and fuzzer (issue 13: no job, however malformed, can stop a service).
//
//   SeededChoices choices(seed);               // or ByteChoices(data, size) in a fuzzer
//   OddJob job = GenerateOddJob(choices);
//   job.object   // the job as the API server would hand it to the reconciler
//   job.verdict  // what the reconciler must make of it, when the generator knows
//
// The same seed (or bytes) always gives the same job.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kubedl/api/json.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler::testing {

// Where the generator's choices come from.
class ChoiceSource {
 public:
  virtual ~ChoiceSource() = default;
  // A number in [0, n); 0 when n is 0.
  virtual uint64_t Below(uint64_t n) = 0;

  bool OneIn(uint64_t n) { return Below(n) == 0; }
  int64_t Between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  template <typename T>
  const T& Pick(const std::vector<T>& options) {
    return options[Below(options.size())];
  }
};

// A seeded pseudo-random source (std::mt19937_64: the same sequence on every platform).
class SeededChoices final : public ChoiceSource {
 public:
  explicit SeededChoices(uint64_t seed) : engine_(seed) {}
  uint64_t Below(uint64_t n) override {
    if (n == 0) return 0;
    return engine_() % n;
  }

 private:
  std::mt19937_64 engine_;
};

// Choices read from a fuzzer's bytes: one byte for a choice among up to 256 options, more for
// larger ranges; once the bytes run out every choice is 0 (the first, plainest option).
class ByteChoices final : public ChoiceSource {
 public:
  ByteChoices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t Below(uint64_t n) override;
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

struct OddJob {
  // What the reconciler must do with the job, as far as the generator can tell.
  enum class Verdict {
    kRuns,     // valid: it gets its pods (`expected_pods` of them, when that is >= 0)
    kRefused,  // invalid: Failed/<Kind>FailedValidation with a field path, no pod
    kEither,   // odd in a way validation may or may not refuse; either outcome is fine
  };

  api::JobKind kind = api::JobKind::kTFJob;
  api::Json object;  // apiVersion, kind, metadata (name, namespace, uid), spec, maybe status
  Verdict verdict = Verdict::kRuns;
  int64_t expected_pods = -1;  // kRuns only; -1: not known (suspended, finished status, ...)
  // False for a shape the API server itself refuses (a string where the CRD says integer, a
  // status of the wrong types): only a buggy cache or client could hand it over.
  bool within_crd_schema = true;
  // What was done to the job, one phrase each ("Worker containerPort as a string"), for
  // failure messages and the figures.
  std::vector<std::string> oddities;

  std::string name() const;
  std::string Describe() const;  // kind, name, verdict and oddities on one line
};

struct GeneratorOptions {
  std::string namespace_ = "ns";
  // Shapes the API server refuses (OddJob::within_crd_schema false) are generated only when
  // this is set; about one job in twenty then has one.
  bool beyond_crd_schema = true;
  // Most odd jobs get one to four oddities; this caps them.
  int max_oddities = 4;
};

OddJob GenerateOddJob(ChoiceSource& choices, const GeneratorOptions& options = {});

const char* VerdictName(OddJob::Verdict verdict);

}  // namespace kubedl::reconciler::testing
