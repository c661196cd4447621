#include "pod_group_control.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"
#include "min_resources.h"

namespace kubedl::gang {
namespace {

using nlohmann::json;

// Update conflicts (and a stale PodGroup being replaced) are retried this often against a fresh
// read before the caller is told to retry later.
constexpr int kAttempts = 4;

// How many UIDs of PodGroups deleted by us are remembered to hide them in the cache, and how
// many PodGroups written by us are remembered until the cache has them.
constexpr size_t kDeletedUidsKept = 10000;
constexpr size_t kRecentWritesKept = 10000;

// How long a PriorityClass value is trusted.
constexpr absl::Duration kPriorityClassTtl = absl::Seconds(30);

}  // namespace

absl::Status ValidateJobRef(const v1::JobRef& job, bool need_owner_fields) {
  std::string missing;
  if (job.name().empty()) absl::StrAppend(&missing, " job.name");
  if (job.namespace_().empty()) absl::StrAppend(&missing, " job.namespace");
  if (need_owner_fields) {
    if (job.uid().empty()) absl::StrAppend(&missing, " job.uid");
    if (job.api_version().empty()) absl::StrAppend(&missing, " job.api_version");
    if (job.kind().empty()) absl::StrAppend(&missing, " job.kind");
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("required fields are empty:", missing));
}

PodGroupControl::PodGroupControl(const GangBackend& backend, kube::Client& client,
                                 const kube::Informer* cache)
    : backend_(backend),
      client_(client),
      cache_(cache),
      priority_classes_(client, kPriorityClassTtl) {}

// Whether resourceVersion `a` is older than `b`. They are etcd revisions on every API server we
// know; anything else counts as not older, so the cache wins.
static bool OlderVersion(const std::string& a, const std::string& b) {
  int64_t x = 0, y = 0;
  return absl::SimpleAtoi(a, &x) && absl::SimpleAtoi(b, &y) && x < y;
}

std::optional<std::optional<kube::Object>> PodGroupControl::Cached(const v1::JobRef& job) const {
  if (cache_ == nullptr || !cache_->HasSynced()) return std::nullopt;
  std::optional<kube::Object> pod_group = cache_->Get(job.namespace_(), job.name());
  absl::MutexLock lock(&mu_);
  // Deleted by us, the watch has not said so yet.
  if (pod_group.has_value() && deleted_uids_.contains(kube::Uid(*pod_group))) {
    return std::optional<kube::Object>();
  }
  // Written by us, the watch has not brought it yet: callers read their own writes.
  auto written = written_.find(kube::ObjectKey(job.namespace_(), job.name()));
  if (written != written_.end() &&
      (!pod_group.has_value() || kube::Uid(*pod_group) != kube::Uid(written->second) ||
       OlderVersion(kube::ResourceVersion(*pod_group), kube::ResourceVersion(written->second)))) {
    if (!deleted_uids_.contains(kube::Uid(written->second))) return written->second;
  }
  return pod_group;
}

void PodGroupControl::RememberWritten(const kube::Object& pod_group) {
  if (cache_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  if (written_.size() >= kRecentWritesKept) written_.clear();
  written_[kube::ObjectKey(pod_group)] = pod_group;
}

void PodGroupControl::RememberDeleted(const std::string& uid) {
  if (cache_ == nullptr || uid.empty()) return;
  absl::MutexLock lock(&mu_);
  // The watch catches up within seconds; the set only has to outlive that (so does written_).
  if (deleted_uids_.size() >= kDeletedUidsKept) deleted_uids_.clear();
  deleted_uids_.insert(uid);
}

v1::Gang PodGroupControl::GangFrom(const kube::Object& pod_group) const {
  v1::Gang gang;
  gang.set_name(kube::Name(pod_group));
  gang.set_namespace_(kube::Namespace(pod_group));
  gang.set_phase(backend_.Admission(pod_group));
  if (auto status = pod_group.find("status"); status != pod_group.end() && status->is_object()) {
    if (auto phase = status->find("phase"); phase != status->end() && phase->is_string()) {
      gang.set_backend_phase(phase->get<std::string>());
    }
  }
  if (auto spec = pod_group.find("spec"); spec != pod_group.end() && spec->is_object()) {
    if (auto min = spec->find("minMember"); min != spec->end() && min->is_number_integer()) {
      gang.set_min_member(min->get<int32_t>());
    }
  }
  return gang;
}

absl::Status PodGroupControl::ExplainNotFound(const absl::Status& not_found) {
  const kube::ResourceRef& ref = backend_.PodGroupResource();
  absl::StatusOr<kube::Object> served = client_.GetPath("/apis/" + ref.group + "/" + ref.version);
  bool listed = false;
  if (served.ok()) {
    for (const json& resource : served->value("resources", json::array())) {
      if (resource.is_object() && resource.value("name", "") == ref.resource) listed = true;
    }
  } else if (!kube::IsNotFound(served.status())) {
    return served.status();  // cannot tell now; the caller retries
  }
  if (listed) return not_found;
  return absl::FailedPreconditionError(absl::StrCat(
      "the ", backend_.PodGroupKind(), " CRD of backend ", backend_.Name(), " (", ref.resource,
      ".", ref.group, "/", ref.version, ") is not installed"));
}

absl::StatusOr<kube::Object> PodGroupControl::Create(const v1::EnsureGangRequest& request,
                                                     const json& spec) {
  const v1::JobRef& job = request.job();
  const kube::ResourceRef& ref = backend_.PodGroupResource();
  json pod_group = {
      {"apiVersion", ref.ApiVersion()},
      {"kind", std::string(backend_.PodGroupKind())},
      {"metadata",
       {{"name", job.name()},
        {"namespace", job.namespace_()},
        {"labels", {{kGangJobLabel, job.name()}}},
        {"ownerReferences", json::array({{{"apiVersion", job.api_version()},
                                          {"kind", job.kind()},
                                          {"name", job.name()},
                                          {"uid", job.uid()},
                                          {"controller", true},
                                          {"blockOwnerDeletion", true}}})}}},
      {"spec", spec}};
  return client_.Create(ref, job.namespace_(), pod_group);
}

absl::Status PodGroupControl::Ensure(const v1::EnsureGangRequest& request, v1::Gang& gang) {
  if (absl::Status valid = ValidateJobRef(request.job(), true); !valid.ok()) return valid;
  if (request.min_member() < 1) {
    return absl::InvalidArgumentError("min_member must be at least 1");
  }
  if (request.schedule_timeout_seconds() < 0) {
    return absl::InvalidArgumentError("schedule_timeout_seconds must not be negative");
  }
  for (const v1::ReplicaResources& replica : request.replicas()) {
    if (replica.replicas() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("replicas[", replica.replica_type(), "].replicas must not be negative"));
    }
  }
  absl::StatusOr<kube::ResourceList> min_resources = ResolveMinResources(
      request, [this](const std::string& name) { return priority_classes_.ValueOf(name); });
  if (!min_resources.ok()) return min_resources.status();

  const v1::JobRef& job = request.job();
  const kube::ResourceRef& ref = backend_.PodGroupResource();
  const json desired_spec = backend_.DesiredSpec(request, *min_resources);

  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    // The first attempt trusts the cache (a miss goes straight to Create); a retry, after the
    // cache proved stale, reads the API server.
    absl::StatusOr<kube::Object> existing = kube::MakeApiError(404, "NotFound", "not in the cache");
    std::optional<std::optional<kube::Object>> cached;
    if (attempt == 0) cached = Cached(job);
    if (cached.has_value()) {
      if (cached->has_value()) existing = **cached;
    } else {
      existing = client_.Get(ref, job.namespace_(), job.name());
    }
    if (kube::IsNotFound(existing.status())) {
      absl::StatusOr<kube::Object> created = Create(request, desired_spec);
      if (created.ok()) {
        RememberWritten(*created);
        gang = GangFrom(*created);
        return absl::OkStatus();
      }
      if (kube::IsAlreadyExists(created.status())) continue;  // raced with another caller
      if (kube::IsNotFound(created.status())) {
        if (absl::Status why = ExplainNotFound(created.status()); !kube::IsNotFound(why)) {
          return why;
        }
        continue;  // e.g. the namespace is being made; a retry reads the API server again
      }
      return created.status();
    }
    if (!existing.ok()) return existing.status();

    // A PodGroup of an earlier job with this name (the garbage collector has not removed it
    // yet) must not gang the new job's pods: replace it.
    const std::string owner = kube::ControllerUid(*existing);
    if (!owner.empty() && owner != job.uid()) {
      kube::DeleteOptions options;
      options.precondition_uid = kube::Uid(*existing);
      absl::Status deleted = client_.Delete(ref, job.namespace_(), job.name(), options);
      if (!deleted.ok() && !kube::IsNotFound(deleted) && !kube::IsConflict(deleted)) {
        return deleted;
      }
      RememberDeleted(kube::Uid(*existing));
      continue;
    }

    kube::Object updated = *existing;
    if (!updated.contains("spec") || !updated["spec"].is_object()) updated["spec"] = json::object();
    bool changed = backend_.MergeSpec(desired_spec, updated["spec"]);
    // A PodGroup someone else made for the job joins the ones this service caches.
    json& labels = updated["metadata"]["labels"];
    if (!labels.is_object()) labels = json::object();
    if (labels.value(kGangJobLabel, "") != job.name()) {
      labels[kGangJobLabel] = job.name();
      changed = true;
    }
    if (!changed) {
      gang = GangFrom(*existing);
      return absl::OkStatus();
    }
    absl::StatusOr<kube::Object> written = client_.Update(ref, job.namespace_(), updated);
    if (written.ok()) {
      RememberWritten(*written);
      gang = GangFrom(*written);
      return absl::OkStatus();
    }
    if (!kube::IsConflict(written.status()) && !kube::IsNotFound(written.status())) {
      return written.status();
    }
  }
  return absl::AbortedError(absl::StrCat("PodGroup ", job.namespace_(), "/", job.name(),
                                         " kept changing during ", kAttempts,
                                         " attempts; retry"));
}

absl::Status PodGroupControl::Get(const v1::GetGangRequest& request, v1::Gang& gang) {
  const v1::JobRef& job = request.job();
  if (absl::Status valid = ValidateJobRef(job, false); !valid.ok()) return valid;
  // A cache miss asks the API server: the gang may have been made a moment ago.
  absl::StatusOr<kube::Object> pod_group = kube::MakeApiError(404, "NotFound", "not in the cache");
  std::optional<std::optional<kube::Object>> cached = Cached(job);
  if (cached.has_value() && cached->has_value()) {
    pod_group = **cached;
  } else {
    pod_group = client_.Get(backend_.PodGroupResource(), job.namespace_(), job.name());
  }
  if (kube::IsNotFound(pod_group.status())) {
    if (absl::Status why = ExplainNotFound(pod_group.status()); !kube::IsNotFound(why)) {
      return why;
    }
    gang.set_name(job.name());
    gang.set_namespace_(job.namespace_());
    gang.set_phase(v1::Gang::NOT_FOUND);
    return absl::OkStatus();
  }
  if (!pod_group.ok()) return pod_group.status();
  // Another job's leftover is not this job's gang.
  const std::string owner = kube::ControllerUid(*pod_group);
  if (!job.uid().empty() && !owner.empty() && owner != job.uid()) {
    gang.set_name(job.name());
    gang.set_namespace_(job.namespace_());
    gang.set_phase(v1::Gang::NOT_FOUND);
    return absl::OkStatus();
  }
  gang = GangFrom(*pod_group);
  return absl::OkStatus();
}

absl::Status PodGroupControl::Delete(const v1::DeleteGangRequest& request) {
  const v1::JobRef& job = request.job();
  if (absl::Status valid = ValidateJobRef(job, false); !valid.ok()) return valid;
  kube::DeleteOptions options;
  options.propagation_policy = "Background";
  if (!job.uid().empty()) {
    // Only this job's gang: a late delete for an earlier job of the same name must not take the
    // new job's PodGroup.
    absl::StatusOr<kube::Object> pod_group =
        client_.Get(backend_.PodGroupResource(), job.namespace_(), job.name());
    if (kube::IsNotFound(pod_group.status())) return absl::OkStatus();
    if (!pod_group.ok()) return pod_group.status();
    const std::string owner = kube::ControllerUid(*pod_group);
    if (!owner.empty() && owner != job.uid()) return absl::OkStatus();
    options.precondition_uid = kube::Uid(*pod_group);
  }
  absl::Status deleted =
      client_.Delete(backend_.PodGroupResource(), job.namespace_(), job.name(), options);
  if (deleted.ok()) RememberDeleted(options.precondition_uid);
  if (kube::IsNotFound(deleted) || kube::IsConflict(deleted)) return absl::OkStatus();
  return deleted;
}

}  // namespace kubedl::gang
