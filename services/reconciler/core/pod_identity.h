#pragma once
// Names and labels of the pods and services the reconciler creates (SPEC §4). Deterministic
// names are what makes a second create of the same replica impossible: the API server answers
// AlreadyExists.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kubedl/api/job.h"
#include "kubedl/api/kind.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"

namespace kubedl::reconciler {

inline constexpr std::string_view kLabelOperatorName = "training.kubeflow.org/operator-name";
inline constexpr std::string_view kLabelJobName = "training.kubeflow.org/job-name";
inline constexpr std::string_view kLabelReplicaType = "training.kubeflow.org/replica-type";
inline constexpr std::string_view kLabelReplicaIndex = "training.kubeflow.org/replica-index";
inline constexpr std::string_view kLabelJobRole = "training.kubeflow.org/job-role";
// KubeDL's older keys, kept so selectors written against them keep working.
inline constexpr std::string_view kLegacyLabelGroupName = "group-name";
inline constexpr std::string_view kLegacyLabelJobName = "job-name";
inline constexpr std::string_view kLegacyLabelReplicaType = "replica-type";
inline constexpr std::string_view kLegacyLabelReplicaIndex = "replica-index";
inline constexpr std::string_view kLegacyLabelJobRole = "job-role";

// Informer index of pods and services that carry a job's labels but no controller: what the
// job may adopt, found without scanning its namespace on every pass.
inline constexpr char kIndexOrphanOfJob[] = "orphan-of-job";
// "<namespace>/<operator-name label>/<job-name label>" of an object without controller (none
// otherwise): kIndexOrphanOfJob's values.
std::vector<std::string> OrphanOfJobIndex(const kube::Object& obj);
// The kIndexOrphanOfJob value of a job's orphans.
std::string OrphanOfJobKey(api::JobKind kind, std::string_view ns, std::string_view job);

// The API resource of a kind's jobs.
kube::ResourceRef JobResource(const api::KindDescriptor& kind);
// "<lower kind>-controller", the operator-name label value of a kind.
std::string OperatorName(api::JobKind kind);
// "<job>-<lower type>-<index>" (unindexed types: "<job>-<lower type>"): the pod's and its
// service's name.
std::string ReplicaName(const api::Job& job, std::string_view replica_type, int64_t index);
std::string ReplicaName(const api::KindDescriptor& kind, std::string_view job,
                        std::string_view replica_type, int64_t index);
// The labels every pod and service of a job carries (operator, job; new and legacy keys).
std::map<std::string, std::string> JobLabels(api::JobKind kind, std::string_view job);
// JobLabels plus replica type and index, and job-role=master when `master`.
std::map<std::string, std::string> ReplicaLabels(api::JobKind kind, std::string_view job,
                                                 std::string_view replica_type, int64_t index,
                                                 bool master);
// "TFJob ns/name": how messages about a job's replicas name it.
std::string ReplicaMessagePrefix(const api::Job& job);
// "TFJob/ns/name": the work-queue key of a job.
std::string JobKey(api::JobKind kind, std::string_view ns, std::string_view name);
struct ParsedJobKey {
  api::JobKind kind;
  std::string namespace_;
  std::string name;
};
std::optional<ParsedJobKey> ParseJobKey(std::string_view key);

}  // namespace kubedl::reconciler
