#include "kubedl/api/kind.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kubedl::api {
namespace {

// Debian's abseil has its own string_view type.
inline absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr std::array<std::string_view, 5> kTfTypes = {"PS", "Master", "Chief", "Worker",
                                                      "Evaluator"};
constexpr std::array<std::string_view, 2> kMasterWorker = {"Master", "Worker"};
constexpr std::array<std::string_view, 4> kXdlTypes = {"PS", "Scheduler", "Worker",
                                                       "ExtendRole"};
constexpr std::array<std::string_view, 1> kTfContainers = {"tensorflow"};
constexpr std::array<std::string_view, 1> kPyTorchContainers = {"pytorch"};
constexpr std::array<std::string_view, 2> kXgbContainers = {"xgboost", "xgboostjob"};
constexpr std::array<std::string_view, 1> kXdlContainers = {"xdl"};

const std::array<KindDescriptor, 4> kKinds = {{
    {JobKind::kTFJob, "TFJob", "kubeflow.org", "v1", "kubeflow.org/v1", "tfjobs", "tfjob",
     "tfReplicaSpecs", kTfTypes, "tensorflow", kTfContainers, "tfjob-port", 2222, "Never",
     "None"},
    {JobKind::kPyTorchJob, "PyTorchJob", "kubeflow.org", "v1", "kubeflow.org/v1",
     "pytorchjobs", "pytorchjob", "pytorchReplicaSpecs", kMasterWorker, "pytorch",
     kPyTorchContainers, "pytorchjob-port", 23456, "OnFailure", "None"},
    {JobKind::kXGBoostJob, "XGBoostJob", "kubeflow.org", "v1", "kubeflow.org/v1",
     "xgboostjobs", "xgbjob", "xgbReplicaSpecs", kMasterWorker, "xgboost", kXgbContainers,
     "xgboostjob-port", 9999, "Never", "None"},
    {JobKind::kXDLJob, "XDLJob", "xdl.kubedl.io", "v1alpha1", "xdl.kubedl.io/v1alpha1",
     "xdljobs", "xdljob", "xdlReplicaSpecs", kXdlTypes, "xdl", kXdlContainers, "xdljob-port",
     2222, "Never", "Running"},
}};

}  // namespace

std::span<const KindDescriptor> AllKinds() { return kKinds; }

const KindDescriptor& Describe(JobKind kind) { return kKinds[static_cast<size_t>(kind)]; }

const KindDescriptor* FindKind(std::string_view api_version, std::string_view kind) {
  for (const auto& d : kKinds) {
    if (d.api_version == api_version && d.name == kind) return &d;
  }
  return nullptr;
}

const KindDescriptor* FindKindByName(std::string_view kind) {
  for (const auto& d : kKinds) {
    if (absl::EqualsIgnoreCase(A(d.name), A(kind))) return &d;
  }
  return nullptr;
}

std::string_view CanonicalReplicaType(const KindDescriptor& kind, std::string_view type) {
  for (std::string_view t : kind.replica_types) {
    if (absl::EqualsIgnoreCase(A(t), A(type))) return t;
  }
  return {};
}

std::string ReplicaObjectName(std::string_view job, std::string_view replica_type, int64_t index) {
  return absl::StrCat(A(job), "-", absl::AsciiStrToLower(A(replica_type)), "-", index);
}

}  // namespace kubedl::api
