#pragma once
// Defaulting (SPEC §2). The mutating webhook applies it to the object the user sent; the
// reconciler applies the same function in memory, so a cluster without the webhook behaves alike.
#include <string>
#include <vector>

#include "kubedl/api/job.h"

namespace kubedl::api {

struct DefaultingResult {
  // One per legacy flat run-policy key moved into spec.runPolicy (or dropped because
  // spec.runPolicy already set it), for AdmissionReview warnings.
  std::vector<std::string> warnings;
};

// Idempotent: defaulting a defaulted job changes nothing.
DefaultingResult DefaultJob(Job& job);

// The index of the container that gets the kind's port: the one with the kind's container name
// (or a legacy spelling), else 0; -1 when the template has no containers array. A kind without a
// container name (MPIJob) always gets 0: its spec.mainContainer is the caller's to look up.
int FrameworkContainerIndex(const KindDescriptor& kind, const Json& pod_template);

}  // namespace kubedl::api
