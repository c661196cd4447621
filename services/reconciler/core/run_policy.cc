#include "core/run_policy.h"

#include "kubedl/api/conditions.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseRfc3339(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) return std::nullopt;
  return t;
}

SuspendStep DecideSuspend(const api::Job& job) {
  if (api::EffectiveRunPolicy(job.spec).suspend.value_or(false)) return SuspendStep::kSuspend;
  return api::IsSuspended(job.status) ? SuspendStep::kResume : SuspendStep::kNone;
}

namespace {

TimedDecision CheckLimit(const std::optional<std::string>& since,
                         const std::optional<int64_t>& seconds, absl::Time now) {
  if (!seconds) return {};
  std::optional<absl::Time> start = ParseRfc3339(since);
  if (!start) return {};
  const absl::Time limit = *start + absl::Seconds(*seconds);
  if (now >= limit) return {.due = true};
  return {.recheck_in = limit - now};
}

}  // namespace

TimedDecision CheckActiveDeadline(const api::Job& job, absl::Time now) {
  return CheckLimit(job.status.start_time,
                    api::EffectiveRunPolicy(job.spec).active_deadline_seconds, now);
}

TimedDecision CheckTimeToLive(const api::Job& job, absl::Time now) {
  return CheckLimit(job.status.completion_time,
                    api::EffectiveRunPolicy(job.spec).ttl_seconds_after_finished, now);
}

CleanPodPolicy CleanPodPolicyOf(const api::Job& job) {
  const std::string policy = api::EffectiveRunPolicy(job.spec).clean_pod_policy.value_or(
      std::string(job.descriptor().default_clean_pod_policy));
  if (policy == "All") return CleanPodPolicy::kAll;
  if (policy == "Running") return CleanPodPolicy::kRunning;
  return CleanPodPolicy::kNone;
}

bool BackoffLimitExceeded(const api::Job& job, int64_t recreations, int64_t container_restarts) {
  const std::optional<int64_t> limit = api::EffectiveRunPolicy(job.spec).backoff_limit;
  return limit && recreations + container_restarts > *limit;
}

}  // namespace kubedl::reconciler
