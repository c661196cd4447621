#pragma once

// Which PodGroups a gang call may touch: only those this service made for the job the call
// names. A PodGroup is ours when it carries our managed-by label and a controller owner
// reference to the job; the job itself must be live in the API server with the UID the caller
// gave before anything is written for it. Everything else is refused with PermissionDenied and
// left as it is.

#include <string>

#include "absl/status/status.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/v1/gang_scheduler.pb.h"

namespace kubedl::gang {

// On every PodGroup this service makes.
inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByValue[] = "kubedl";
// The job's name, also on every PodGroup this service makes (and the selector of its cache).
// Before the managed-by label existed it was the only mark, so a PodGroup whose gang-job label
// names the job still counts as made by us (upgrades keep their running jobs' gangs).
inline constexpr char kGangJobLabel[] = "kubedl.io/gang-job-name";

enum class PodGroupOwner {
  kThisJob,            // ours, controlled by the job with the caller's UID
  kEarlierJobOfName,   // ours, controlled by a job of the same kind and name but another UID
  kSomeoneElse,        // not marked as ours, or controlled by something else
};

PodGroupOwner OwnerOf(const kube::Object& pod_group, const v1::JobRef& job);

// PermissionDenied for a PodGroup that is not the job's, saying whose it is.
absl::Status NotTheJobsPodGroup(const kube::Object& pod_group, const v1::JobRef& job);

// OK when the job exists in the API server with the caller's UID; PermissionDenied when it does
// not (or has another UID); API errors as they came (the caller maps them).
absl::Status VerifyLiveJob(kube::Client& client, const v1::JobRef& job);

}  // namespace kubedl::gang
