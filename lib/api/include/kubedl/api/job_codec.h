#pragma once
// JSON <-> Job.
#include "absl/status/statusor.h"
#include "kubedl/api/field_error.h"
#include "kubedl/api/job.h"
#include "kubedl/api/json.h"

namespace kubedl::api {

// Parses one job object. Errors:
//  - InvalidArgument: not an object, or apiVersion/kind is not one of ours;
//  - InvalidArgument with every wrongly-typed field listed (message of FieldError::ToString()
//    joined by ", "), e.g. `spec.tfReplicaSpecs[Worker].replicas: Invalid value: "two": must be
//    of type integer`. `type_errors` (when given) receives them one by one.
absl::StatusOr<Job> ParseJob(const Json& object, FieldErrors* type_errors = nullptr);
// The same, taking the object over as Job::raw instead of copying it (the webhook's hot path).
absl::StatusOr<Job> ParseJob(Json&& object, FieldErrors* type_errors = nullptr);

// Writes the job back: job.raw with every typed field written over it. A field set to nullopt
// that is present in raw is removed (e.g. legacy keys after DefaultJob moved them); `status` is
// only written when raw had one or the typed status is not empty.
Json ToJson(const Job& job);
// The same, starting from the job's raw object moved out instead of a copy of it.
Json ToJson(Job&& job);

Json ToJson(const JobStatus& status);
absl::StatusOr<JobStatus> ParseJobStatus(const Json& status);

}  // namespace kubedl::api
