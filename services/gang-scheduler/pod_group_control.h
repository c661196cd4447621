#pragma once

// Creates, reads and deletes the PodGroup of a job for one backend, through the API server.
// What the gRPC service does for EnsureGang, GetGang and DeleteGang, without gRPC.

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gang_backend.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/v1/gang_scheduler.pb.h"
#include "pod_group_ownership.h"
#include "priority_classes.h"

namespace kubedl::gang {

class PodGroupControl {
 public:
  // `backend`, `client` and `cache` must outlive this object. `cache`, when given, holds the
  // PodGroups this service made (label kGangJobLabel), kept current by an informer: once it has
  // synced, EnsureGang of an unchanged gang and GetGang cost no API call.
  PodGroupControl(const GangBackend& backend, kube::Client& client,
                  const kube::Informer* cache = nullptr);

  // Creates the PodGroup or brings its spec up to date. Before anything is written the job is
  // read from the API server (one GET per create or spec change; an unchanged gang costs none):
  // it must exist with the request's UID. A PodGroup left by an earlier job of the same kind and
  // name (another owner UID) is replaced; one that is not ours (pod_group_ownership.h) is left
  // alone. Errors: InvalidArgument (bad request), PermissionDenied (no such live job, or the
  // PodGroup is not the job's), FailedPrecondition (the backend's CRD is not served),
  // Unavailable/Aborted (retry).
  absl::Status Ensure(const v1::EnsureGangRequest& request, v1::Gang& gang);
  // The PodGroup's admission; phase NOT_FOUND when there is none, or when the PodGroup of that
  // name is not this job's.
  absl::Status Get(const v1::GetGangRequest& request, v1::Gang& gang);
  // Deletes the job's PodGroup; one that is not there counts as deleted. One that is not the
  // job's is PermissionDenied and stays.
  absl::Status Delete(const v1::DeleteGangRequest& request);

 private:
  absl::StatusOr<kube::Object> Create(const v1::EnsureGangRequest& request,
                                      const nlohmann::json& spec);
  // After a NotFound from the API server: FailedPrecondition when the PodGroup resource itself
  // is not served (CRD missing), else `not_found` unchanged.
  absl::Status ExplainNotFound(const absl::Status& not_found);
  // The PodGroup of the job's name: from the cache when `use_cache` and it has synced (then
  // *from_cache is set, and a miss is NotFound), else from the API server.
  absl::StatusOr<kube::Object> Read(const v1::JobRef& job, bool use_cache, bool* from_cache);
  v1::Gang GangFrom(const kube::Object& pod_group) const;

  // The cached PodGroup when the cache has synced: nullopt inside when it has none; nullopt
  // outside when there is no synced cache to ask.
  std::optional<std::optional<kube::Object>> Cached(const v1::JobRef& job) const;
  void RememberDeleted(const std::string& uid);
  void RememberWritten(const kube::Object& pod_group);

  const GangBackend& backend_;
  kube::Client& client_;
  const kube::Informer* cache_;
  PriorityClasses priority_classes_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> deleted_uids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, kube::Object> written_ ABSL_GUARDED_BY(mu_);
};

// Checks the fields every request needs: InvalidArgument naming the empty ones, a name or
// namespace Kubernetes would refuse, or (with `need_owner_fields`) a kind KubeDL does not serve.
absl::Status ValidateJobRef(const v1::JobRef& job, bool need_owner_fields);

}  // namespace kubedl::gang
