#include "kubedl/api/conditions.h"

#include "absl/strings/str_cat.h"

namespace kubedl::api {

std::string ConditionReason(JobKind kind, std::string_view suffix) {
  return absl::StrCat(std::string(Describe(kind).name), std::string(suffix));
}

const JobCondition* FindCondition(const JobStatus& status, std::string_view type) {
  for (const auto& c : status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool HasTrueCondition(const JobStatus& status, std::string_view type) {
  const JobCondition* c = FindCondition(status, type);
  return c != nullptr && c->status == kConditionTrue;
}

bool IsSucceeded(const JobStatus& status) { return HasTrueCondition(status, kJobSucceeded); }
bool IsFailed(const JobStatus& status) { return HasTrueCondition(status, kJobFailed); }
bool IsFinished(const JobStatus& status) { return IsSucceeded(status) || IsFailed(status); }
bool IsSuspended(const JobStatus& status) { return HasTrueCondition(status, kJobSuspended); }

std::string_view CurrentState(const JobStatus& status) {
  return status.conditions.empty() ? std::string_view() : status.conditions.back().type;
}

bool SetCondition(JobStatus& status, std::string_view type, std::string_view condition_status,
                  std::string_view reason, std::string_view message, std::string_view now) {
  if (IsFinished(status)) return false;
  const JobCondition* existing = FindCondition(status, type);
  if (existing != nullptr && existing->status == condition_status && existing->reason == reason) {
    return false;
  }
  JobCondition next{std::string(type),    std::string(condition_status), std::string(reason),
                    std::string(message), std::string(now),              std::string(now)};
  if (existing != nullptr && existing->status == condition_status) {
    next.last_transition_time = existing->last_transition_time;
  }
  const bool terminal = type == kJobSucceeded || type == kJobFailed;
  const bool new_is_true = condition_status == kConditionTrue;
  std::vector<JobCondition> kept;
  kept.reserve(status.conditions.size() + 1);
  for (const JobCondition& c : status.conditions) {
    if (c.type == type) continue;
    if (new_is_true && ((type == kJobRunning && c.type == kJobRestarting) ||
                        (type == kJobRestarting && c.type == kJobRunning))) {
      continue;
    }
    JobCondition copy = c;
    if (terminal && new_is_true && c.type == kJobRunning && c.status == kConditionTrue) {
      copy.status = std::string(kConditionFalse);
      copy.last_update_time = std::string(now);
      copy.last_transition_time = std::string(now);
    }
    kept.push_back(std::move(copy));
  }
  kept.push_back(std::move(next));
  status.conditions = std::move(kept);
  return true;
}

bool SetCondition(JobStatus& status, std::string_view type, std::string_view reason,
                  std::string_view message, std::string_view now) {
  return SetCondition(status, type, kConditionTrue, reason, message, now);
}

}  // namespace kubedl::api
