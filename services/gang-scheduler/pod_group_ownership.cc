#include "pod_group_ownership.h"

#include "absl/strings/str_cat.h"
#include "kubedl/api/kind.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/resource.h"

namespace kubedl::gang {
namespace {

using nlohmann::json;

std::string StringAt(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The owner reference marked controller, or nullptr.
const json* ControllerReference(const kube::Object& pod_group) {
  auto metadata = pod_group.find("metadata");
  if (metadata == pod_group.end() || !metadata->is_object()) return nullptr;
  auto references = metadata->find("ownerReferences");
  if (references == metadata->end() || !references->is_array()) return nullptr;
  for (const json& reference : *references) {
    if (!reference.is_object()) continue;
    auto controller = reference.find("controller");
    if (controller != reference.end() && controller->is_boolean() && controller->get<bool>()) {
      return &reference;
    }
  }
  return nullptr;
}

bool MarkedAsOurs(const kube::Object& pod_group, const v1::JobRef& job) {
  auto metadata = pod_group.find("metadata");
  if (metadata == pod_group.end() || !metadata->is_object()) return false;
  auto labels = metadata->find("labels");
  if (labels == metadata->end() || !labels->is_object()) return false;
  return StringAt(*labels, kManagedByLabel) == kManagedByValue ||
         StringAt(*labels, kGangJobLabel) == job.name();
}

}  // namespace

PodGroupOwner OwnerOf(const kube::Object& pod_group, const v1::JobRef& job) {
  const json* controller = ControllerReference(pod_group);
  if (controller == nullptr || !MarkedAsOurs(pod_group, job)) return PodGroupOwner::kSomeoneElse;
  if (!job.uid().empty() && StringAt(*controller, "uid") == job.uid()) {
    return PodGroupOwner::kThisJob;
  }
  if (StringAt(*controller, "apiVersion") == job.api_version() &&
      StringAt(*controller, "kind") == job.kind() && StringAt(*controller, "name") == job.name()) {
    return PodGroupOwner::kEarlierJobOfName;
  }
  return PodGroupOwner::kSomeoneElse;
}

absl::Status NotTheJobsPodGroup(const kube::Object& pod_group, const v1::JobRef& job) {
  std::string whose;
  if (const json* controller = ControllerReference(pod_group); controller != nullptr) {
    // Its owner's UID is not quoted: that would tell a caller what to send next time.
    whose = absl::StrCat(" (controlled by ", StringAt(*controller, "kind"), " ",
                         StringAt(*controller, "name"),
                         MarkedAsOurs(pod_group, job) ? " with another uid)"
                                                      : ", not labelled as KubeDL's)");
  } else {
    whose = " (it has no controller owner reference)";
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "PodGroup ", job.namespace_(), "/", job.name(), " is not the gang KubeDL made for ",
      job.kind(), " ", job.name(), " uid ", job.uid(), whose, ": it is left as it is"));
}

absl::Status VerifyLiveJob(kube::Client& client, const v1::JobRef& job) {
  const api::KindDescriptor* kind = api::FindKind(job.api_version(), job.kind());
  if (kind == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job ", job.api_version(), " ", job.kind(), " is not a kind KubeDL serves"));
  }
  const kube::ResourceRef ref{std::string(kind->group), std::string(kind->version),
                              std::string(kind->plural), true};
  absl::StatusOr<kube::Object> live = client.Get(ref, job.namespace_(), job.name());
  if (kube::IsNotFound(live.status())) {
    return absl::PermissionDeniedError(absl::StrCat(job.kind(), " ", job.namespace_(), "/",
                                                    job.name(), " does not exist: no gang is "
                                                    "made for a job that is not there"));
  }
  if (!live.ok()) return live.status();
  if (kube::Uid(*live) != job.uid()) {
    // The live UID is not quoted: it would tell a caller what to send next time.
    return absl::PermissionDeniedError(absl::StrCat(
        job.kind(), " ", job.namespace_(), "/", job.name(), " with uid ", job.uid(),
        " does not exist (the job of that name has another uid): no gang is made for it"));
  }
  return absl::OkStatus();
}

}  // namespace kubedl::gang
