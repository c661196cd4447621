#pragma once
// What a job's runPolicy asks for at this moment (SPEC §5): suspend, activeDeadlineSeconds,
// ttlSecondsAfterFinished, cleanPodPolicy and backoffLimit, as decisions. Pure functions of the
// job, what the pass observed and the time: the pass acts on them, these never touch the cluster.
#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "kubedl/api/job.h"

namespace kubedl::reconciler {

// RFC 3339 in UTC, second precision: how conditions and start/completion times are written.
std::string Rfc3339(absl::Time t);
// The same back; nullopt when absent or malformed.
std::optional<absl::Time> ParseRfc3339(const std::optional<std::string>& text);

enum class SuspendStep {
  kNone,     // not suspended, and was not
  kSuspend,  // spec says suspend: delete the pods, mark (or keep) Suspended
  kResume,   // the status says suspended but the spec no longer does
};
SuspendStep DecideSuspend(const api::Job& job);

// A check that may end the job now, or asks to be looked at again at a known time.
struct TimedDecision {
  bool due = false;                          // the limit is reached now
  std::optional<absl::Duration> recheck_in;  // not yet: requeue after this long
};
// activeDeadlineSeconds counted from status.startTime.
TimedDecision CheckActiveDeadline(const api::Job& job, absl::Time now);
// ttlSecondsAfterFinished counted from status.completionTime: due means delete the job.
TimedDecision CheckTimeToLive(const api::Job& job, absl::Time now);

enum class CleanPodPolicy { kNone, kRunning, kAll };
// The job's cleanPodPolicy, or its kind's default.
CleanPodPolicy CleanPodPolicyOf(const api::Job& job);

// backoffLimit counts the pods the reconciler recreated and the containers' own restarts.
bool BackoffLimitExceeded(const api::Job& job, int64_t recreations, int64_t container_restarts);

}  // namespace kubedl::reconciler
