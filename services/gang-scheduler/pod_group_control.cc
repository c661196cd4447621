#include "pod_group_control.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "kubedl/api/kind.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"
#include "kubernetes_names.h"
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
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("required fields are empty:", missing));
  }
  // Checked before a name reaches a URL or an object: what the API server would refuse (or
  // answer as something else, e.g. a megabyte name) is refused here.
  if (absl::Status valid = ValidateNamespaceName("job.namespace", job.namespace_()); !valid.ok()) {
    return valid;
  }
  if (absl::Status valid = ValidateObjectName("job.name", job.name()); !valid.ok()) return valid;
  if (need_owner_fields && api::FindKind(job.api_version(), job.kind()) == nullptr) {
    return absl::InvalidArgumentError(
        "job.api_version/job.kind must name a kind KubeDL serves (e.g. kubeflow.org/v1 TFJob); "
        "the PodGroup is owned by the job");
  }
  return absl::OkStatus();
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
        {"labels", {{kGangJobLabel, job.name()}, {kManagedByLabel, kManagedByValue}}},
        {"ownerReferences", json::array({{{"apiVersion", job.api_version()},
                                          {"kind", job.kind()},
                                          {"name", job.name()},
                                          {"uid", job.uid()},
                                          {"controller", true},
                                          {"blockOwnerDeletion", true}}})}}},
      {"spec", spec}};
  return client_.Create(ref, job.namespace_(), pod_group);
}

absl::StatusOr<kube::Object> PodGroupControl::Read(const v1::JobRef& job, bool use_cache,
                                                   bool* from_cache) {
  *from_cache = false;
  if (use_cache) {
    std::optional<std::optional<kube::Object>> cached = Cached(job);
    if (cached.has_value()) {
      *from_cache = true;
      if (!cached->has_value()) return kube::MakeApiError(404, "NotFound", "not in the cache");
      return **cached;
    }
  }
  return client_.Get(backend_.PodGroupResource(), job.namespace_(), job.name());
}

absl::Status PodGroupControl::Ensure(const v1::EnsureGangRequest& request, v1::Gang& gang) {
  if (absl::Status valid = ValidateJobRef(request.job(), true); !valid.ok()) return valid;
  if (request.min_member() < 1) {
    return absl::InvalidArgumentError("min_member must be at least 1");
  }
  if (request.schedule_timeout_seconds() < 0) {
    return absl::InvalidArgumentError("schedule_timeout_seconds must not be negative");
  }
  // Names that reach the API server (a PriorityClass is read by name) or the PodGroup.
  if (!request.queue().empty()) {
    if (absl::Status valid = ValidateObjectName("queue", request.queue()); !valid.ok()) {
      return valid;
    }
  }
  if (!request.priority_class_name().empty()) {
    if (absl::Status valid = ValidateObjectName("priority_class_name",
                                                request.priority_class_name());
        !valid.ok()) {
      return valid;
    }
  }
  for (const v1::ReplicaResources& replica : request.replicas()) {
    if (replica.replicas() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("replicas[", replica.replica_type(), "].replicas must not be negative"));
    }
    if (!replica.priority_class_name().empty()) {
      if (absl::Status valid = ValidateObjectName("replicas[].priority_class_name",
                                                  replica.priority_class_name());
          !valid.ok()) {
        return valid;
      }
    }
  }
  absl::StatusOr<kube::ResourceList> min_resources = ResolveMinResources(
      request, [this](const std::string& name) { return priority_classes_.ValueOf(name); });
  if (!min_resources.ok()) return min_resources.status();

  const v1::JobRef& job = request.job();
  const kube::ResourceRef& ref = backend_.PodGroupResource();
  const json desired_spec = backend_.DesiredSpec(request, *min_resources);

  // The job is read at most once per call, and only when something is to be written.
  bool job_verified = false;
  auto verify_job = [&]() -> absl::Status {
    if (job_verified) return absl::OkStatus();
    absl::Status live = VerifyLiveJob(client_, job);
    job_verified = live.ok();
    return live;
  };

  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    // The first attempt trusts the cache (a miss goes straight to Create); a retry, after the
    // cache proved stale, reads the API server.
    bool from_cache = false;
    absl::StatusOr<kube::Object> existing = Read(job, attempt == 0, &from_cache);
    if (kube::IsNotFound(existing.status())) {
      if (absl::Status live = verify_job(); !live.ok()) return live;
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

    switch (OwnerOf(*existing, job)) {
      case PodGroupOwner::kThisJob:
        break;
      case PodGroupOwner::kEarlierJobOfName: {
        // Ours, for an earlier job of this kind and name that the garbage collector has not
        // removed yet. Once the live job proves to have the caller's UID, that earlier job is
        // gone (names are unique), and its PodGroup must not gang the new job's pods: replace it.
        if (absl::Status live = verify_job(); !live.ok()) return live;
        kube::DeleteOptions options;
        options.precondition_uid = kube::Uid(*existing);
        absl::Status deleted = client_.Delete(ref, job.namespace_(), job.name(), options);
        if (!deleted.ok() && !kube::IsNotFound(deleted) && !kube::IsConflict(deleted)) {
          return deleted;
        }
        RememberDeleted(kube::Uid(*existing));
        continue;
      }
      case PodGroupOwner::kSomeoneElse:
        if (from_cache) continue;  // the cache may be behind: decide on a fresh read
        return NotTheJobsPodGroup(*existing, job);
    }

    kube::Object updated = *existing;
    if (!updated.contains("spec") || !updated["spec"].is_object()) updated["spec"] = json::object();
    bool changed = backend_.MergeSpec(desired_spec, updated["spec"]);
    if (!changed) {
      gang = GangFrom(*existing);
      return absl::OkStatus();
    }
    // A PodGroup made before the managed-by label existed gets it with its next write.
    json& labels = updated["metadata"]["labels"];
    if (!labels.is_object()) labels = json::object();
    labels[kManagedByLabel] = kManagedByValue;
    labels[kGangJobLabel] = job.name();
    if (absl::Status live = verify_job(); !live.ok()) return live;
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
  // Another job's leftover, or a PodGroup someone else made, is not this job's gang. Without a
  // UID to compare, one of ours for a job of this kind and name is.
  const PodGroupOwner owner = OwnerOf(*pod_group, job);
  const bool the_jobs = owner == PodGroupOwner::kThisJob ||
                        (job.uid().empty() && owner != PodGroupOwner::kSomeoneElse);
  if (!the_jobs) {
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
  // The UID says whose gang goes: without it any caller could name any PodGroup.
  if (absl::Status valid = ValidateJobRef(job, true); !valid.ok()) return valid;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool from_cache = false;
    absl::StatusOr<kube::Object> pod_group = Read(job, attempt == 0, &from_cache);
    if (kube::IsNotFound(pod_group.status())) {
      if (from_cache) continue;  // a cache miss: the API server may have it already
      return absl::OkStatus();
    }
    if (!pod_group.ok()) return pod_group.status();
    if (OwnerOf(*pod_group, job) != PodGroupOwner::kThisJob) {
      if (from_cache) continue;  // the cache may be behind: decide on a fresh read
      return NotTheJobsPodGroup(*pod_group, job);
    }
    kube::DeleteOptions options;
    options.propagation_policy = "Background";
    // Only the object just checked: one made since (a newer job's) stays.
    options.precondition_uid = kube::Uid(*pod_group);
    absl::Status deleted =
        client_.Delete(backend_.PodGroupResource(), job.namespace_(), job.name(), options);
    if (deleted.ok()) RememberDeleted(options.precondition_uid);
    if (kube::IsNotFound(deleted) || kube::IsConflict(deleted)) return absl::OkStatus();
    return deleted;
  }
  return absl::OkStatus();
}

}  // namespace kubedl::gang
