#pragma once
// Validation (SPEC §3), run on the defaulted job. Returns every problem, each with its field
// path, worded like the API server's own errors; empty means valid.
#include "kubedl/api/field_error.h"
#include "kubedl/api/job.h"

namespace kubedl::api {

// `old_job` is the stored object on UPDATE (nullptr on CREATE): it enables the immutability
// checks (spec.runPolicy.schedulingPolicy.queue once set; the set of replica types).
FieldErrors ValidateJob(const Job& job, const Job* old_job);

}  // namespace kubedl::api
