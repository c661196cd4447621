#pragma once

// A gang-scheduling backend: which PodGroup kind it manages, what that PodGroup looks like for
// a job, what a pod needs to join it, and whether the group admits its pods yet.

#include <memory>
#include <span>
#include <string>
#include "absl/strings/string_view.h"

#include "kubedl/kube/resource.h"
#include "kubedl/v1/gang_scheduler.pb.h"
#include "nlohmann/json.hpp"
#include "kubedl/kube/quantity.h"

namespace kubedl::gang {

class GangBackend {
 public:
  virtual ~GangBackend() = default;

  // The flag value that selects this backend: "volcano", "scheduler-plugins", "kube-batch".
  virtual absl::string_view Name() const = 0;
  virtual const kube::ResourceRef& PodGroupResource() const = 0;
  virtual absl::string_view PodGroupKind() const { return "PodGroup"; }

  // The PodGroup's spec for a job; `min_resources` is already resolved (policy or computed).
  virtual nlohmann::json DesiredSpec(const v1::EnsureGangRequest& request,
                                     const kube::ResourceList& min_resources) const = 0;
  // The spec keys this backend writes; one of them missing from the desired spec is removed
  // from an existing PodGroup (e.g. a priority class the job no longer names).
  virtual std::span<const absl::string_view> SpecKeys() const = 0;
  // Folds the desired spec into an existing PodGroup's spec; returns false when nothing changed.
  // Keys the backend does not write (another controller's) are left alone. Backends override it
  // to keep fields the cluster owns (e.g. a queue already assigned).
  virtual bool MergeSpec(const nlohmann::json& desired, nlohmann::json& existing_spec) const;

  // Labels, annotations and schedulerName for one pod of the job.
  virtual v1::BindPodResponse Binding(const v1::BindPodRequest& request) const = 0;

  // Whether the group's pods may be created now, from the PodGroup object.
  virtual v1::Gang::Phase Admission(const nlohmann::json& pod_group) const = 0;
};

// Applies the scheduler-name rule every backend shares: set ours when the pod names none; leave
// another and say so in a warning.
void SetSchedulerName(absl::string_view ours, const v1::BindPodRequest& request,
                      v1::BindPodResponse& response);

}  // namespace kubedl::gang
