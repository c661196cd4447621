#include "core/pod_identity.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {

kube::ResourceRef JobResource(const api::KindDescriptor& kind) {
  return {std::string(kind.group), std::string(kind.version), std::string(kind.plural), true};
}

std::string ReplicaMessagePrefix(const api::Job& job) {
  return absl::StrCat(A(job.descriptor().name), " ", job.namespace_, "/", job.name);
}

std::string OrphanOfJobKey(api::JobKind kind, std::string_view ns, std::string_view job) {
  return absl::StrCat(A(ns), "/", OperatorName(kind), "/", A(job));
}

std::vector<std::string> OrphanOfJobIndex(const kube::Object& obj) {
  if (!kube::ControllerUid(obj).empty()) return {};
  auto metadata = obj.find("metadata");
  if (metadata == obj.end() || !metadata->is_object()) return {};
  auto labels = metadata->find("labels");
  if (labels == metadata->end() || !labels->is_object()) return {};
  auto operator_name = labels->find(std::string(kLabelOperatorName));
  auto job = labels->find(std::string(kLabelJobName));
  if (operator_name == labels->end() || job == labels->end() || !operator_name->is_string() ||
      !job->is_string()) {
    return {};
  }
  return {absl::StrCat(kube::Namespace(obj), "/", operator_name->get<std::string>(), "/",
                       job->get<std::string>())};
}

std::string OperatorName(api::JobKind kind) {
  return absl::StrCat(absl::AsciiStrToLower(A(api::Describe(kind).name)), "-controller");
}

std::string ReplicaName(const api::Job& job, std::string_view replica_type, int64_t index) {
  return api::ReplicaObjectName(job.descriptor(), job.name, replica_type, index);
}

std::string ReplicaName(const api::KindDescriptor& kind, std::string_view job,
                        std::string_view replica_type, int64_t index) {
  return api::ReplicaObjectName(kind, job, replica_type, index);
}

std::map<std::string, std::string> JobLabels(api::JobKind kind, std::string_view job) {
  return {
      {std::string(kLabelOperatorName), OperatorName(kind)},
      {std::string(kLabelJobName), std::string(job)},
      {std::string(kLegacyLabelGroupName), std::string(api::Describe(kind).group)},
      {std::string(kLegacyLabelJobName), std::string(job)},
  };
}

std::map<std::string, std::string> ReplicaLabels(api::JobKind kind, std::string_view job,
                                                 std::string_view replica_type, int64_t index,
                                                 bool master) {
  auto labels = JobLabels(kind, job);
  std::string type = absl::AsciiStrToLower(A(replica_type));
  std::string idx = absl::StrCat(index);
  labels[std::string(kLabelReplicaType)] = type;
  labels[std::string(kLabelReplicaIndex)] = idx;
  labels[std::string(kLegacyLabelReplicaType)] = type;
  labels[std::string(kLegacyLabelReplicaIndex)] = idx;
  if (master) {
    labels[std::string(kLabelJobRole)] = "master";
    labels[std::string(kLegacyLabelJobRole)] = "master";
  }
  return labels;
}

std::string JobKey(api::JobKind kind, std::string_view ns, std::string_view name) {
  return absl::StrCat(A(api::Describe(kind).name), "/", A(ns), "/", A(name));
}

std::optional<ParsedJobKey> ParseJobKey(std::string_view key) {
  std::vector<std::string> parts = absl::StrSplit(A(key), '/');
  if (parts.size() != 3) return std::nullopt;
  const api::KindDescriptor* kind = api::FindKindByName(parts[0]);
  if (kind == nullptr) return std::nullopt;
  return ParsedJobKey{kind->kind, parts[1], parts[2]};
}

}  // namespace kubedl::reconciler
