#pragma once
// Validation (SPEC §3), run on the defaulted job. Returns every problem, each with its field
// path, worded like the API server's own errors; empty means valid. The webhook and the
// reconciler call the same function with the same options, so a job the webhook would refuse is
// never run by the reconciler either (one created while the webhook was down, say).
#include <cstdint>

#include "kubedl/api/field_error.h"
#include "kubedl/api/job.h"

namespace kubedl::api {

class PodSchema;  // pod_schema.h

// Defaults a real cluster would choose: a few thousand replicas of one type is a very large
// training job; every pod's TF_CONFIG lists every address, so much larger jobs make pods too big
// to store anyway.
inline constexpr int64_t kDefaultMaxReplicasPerType = 5000;
inline constexpr int64_t kDefaultMaxReplicasPerJob = 10000;

struct ValidationOptions {
  int64_t max_replicas_per_type = kDefaultMaxReplicasPerType;
  int64_t max_replicas_per_job = kDefaultMaxReplicasPerJob;
  // The Pod schema templates are checked against; nullptr: the built-in one.
  const PodSchema* pod_schema = nullptr;
};

// `old_job` is the stored object on UPDATE (nullptr on CREATE): it enables the immutability
// checks (spec.runPolicy.schedulingPolicy.queue once set; the set of replica types).
FieldErrors ValidateJob(const Job& job, const Job* old_job, const ValidationOptions& options = {});

}  // namespace kubedl::api
