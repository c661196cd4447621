#pragma once
// Private to lib/api: what a kind adds to the common codec, defaulting and validation. Each
// kinds/<kind>.cc defines its KindDescriptor with a KindHooks; kind.cc's table lists them
// (docs/adding-a-kind.md). Nothing outside kinds/ names a kind.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec_fields.h"
#include "kubedl/api/field_error.h"
#include "kubedl/api/job.h"
#include "kubedl/api/kind.h"

namespace kubedl::api {

namespace internal {

// What a kind's validation hook sees: the job and the checks validation.cc words its errors with.
class KindValidation {
 public:
  const Job& job() const { return job_; }
  // "spec.tfReplicaSpecs", and "spec.tfReplicaSpecs[Worker]".
  std::string MapPath() const;
  std::string ReplicaPath(const std::string& type) const;

  void Add(FieldError error) { errors_.push_back(std::move(error)); }
  // Between 0 and `max` (an int32 unless said otherwise).
  void NonNegative(const std::optional<int64_t>& v, const std::string& path,
                   int64_t max = INT32_MAX);
  void OneOf(const std::optional<std::string>& v, const std::string& path,
             const std::vector<std::string>& allowed);
  // The Master of a Master/Worker kind: one replica when present; required if `master_required`.
  void MasterWorker(bool master_required);

 protected:
  explicit KindValidation(const Job& job) : job_(job), kind_(job.descriptor()) {}

  const Job& job_;
  const KindDescriptor& kind_;
  FieldErrors errors_;
};

// The codec hooks of a kind whose own keys under `spec` are listed once by `Fields{}(v, spec)`
// (codec_fields.h); type errors name "spec.<key>".
template <class Fields>
void ReadSpecFields(FieldReader& r, const Json& spec, JobSpec& out) {
  Fields{}(ReadVisitor(r, spec, "spec"), out);
}
template <class Fields>
void WriteSpecFields(Json& spec, const JobSpec& in) {
  Fields{}(WriteVisitor(spec), in);
}

}  // namespace internal

// Every hook may be nullptr: the kind adds nothing there.
struct KindHooks {
  // Codec: the kind's own keys under `spec`, beside the replica map and the run policy. Read
  // after those; written over the raw `spec` after them (ReadSpecFields/WriteSpecFields).
  void (*read_spec)(internal::FieldReader& r, const Json& spec, JobSpec& out) = nullptr;
  void (*write_spec)(Json& spec, const JobSpec& in) = nullptr;
  // Defaulting, after the common defaults (spec.run_policy is set by then).
  void (*default_spec)(Job& job) = nullptr;
  // The `replicas` a replica type (canonical case) gets when it has none; nullptr: 1. A hook of
  // its own because default_spec runs too late to tell a missing count from a written 1.
  int64_t (*default_replicas)(std::string_view type) = nullptr;
  // Validation, after the common checks and before the code-sync annotation's.
  void (*validate)(internal::KindValidation& v) = nullptr;
};

// The hooks of a kind whose own keys under `spec` are listed, in JSON order, by a lambda:
//   constexpr auto kSpecFields = [](auto&& v, auto& spec) {
//     v("successPolicy", spec.success_policy), v("enableDynamicWorker", ...);
//   };
//   constexpr KindHooks kHooks =
//       HooksWithSpecFields<decltype(kSpecFields)>(&Default, &Validate);
template <class SpecFields>
constexpr KindHooks HooksWithSpecFields(void (*default_spec)(Job& job),
                                        void (*validate)(internal::KindValidation& v)) {
  return {.read_spec = &internal::ReadSpecFields<SpecFields>,
          .write_spec = &internal::WriteSpecFields<SpecFields>,
          .default_spec = default_spec,
          .validate = validate};
}

// The kinds, one function each in kinds/<kind>.cc, listed by kind.cc in JobKind order.
namespace kinds {
KindDescriptor TFJob();
KindDescriptor PyTorchJob();
KindDescriptor XGBoostJob();
KindDescriptor XDLJob();
KindDescriptor MPIJob();
KindDescriptor PaddleJob();
KindDescriptor JAXJob();
}  // namespace kinds

}  // namespace kubedl::api
