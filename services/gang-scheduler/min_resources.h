#pragma once

// minResources of a gang when the job's policy sets none: the requests of the first minMember
// pods, taking replica types by descending PriorityClass value (ties keep the job's order), so
// the group asks for what must run together and no more.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "kubedl/v1/gang_scheduler.pb.h"
#include "kubedl/kube/quantity.h"

namespace kubedl::gang {

// The value of a PriorityClass by name; 0 for "" or a class that does not exist.
using PriorityLookup = std::function<int32_t(const std::string& priority_class_name)>;

absl::StatusOr<kube::ResourceList> ComputeMinResources(const v1::EnsureGangRequest& request,
                                                       const PriorityLookup& priority_of);

// minResources for a request: the policy's value when set, else computed.
absl::StatusOr<kube::ResourceList> ResolveMinResources(const v1::EnsureGangRequest& request,
                                                       const PriorityLookup& priority_of);

}  // namespace kubedl::gang
