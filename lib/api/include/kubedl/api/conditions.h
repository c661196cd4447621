#pragma once
// The job condition algebra (SPEC §5), as pure functions over JobStatus.
//
//   SetCondition(status, kJobRunning, ConditionReason(kind, kJobRunning), "TFJob x is running.",
//                now);
//
// Rules: a set condition is True unless told otherwise; once Succeeded or Failed is True nothing
// changes any more; Running and Restarting replace each other; Succeeded or Failed flip a True
// Running to False; the same type, status and reason rewrites nothing (not even the message);
// lastTransitionTime moves only when the status changes. The changed condition goes last, so the
// last condition is the job's current state (the State printer column).
#include <string>
#include <string_view>

#include "kubedl/api/job.h"
#include "kubedl/api/kind.h"

namespace kubedl::api {

inline constexpr std::string_view kJobCreated = "Created";
inline constexpr std::string_view kJobRunning = "Running";
inline constexpr std::string_view kJobRestarting = "Restarting";
inline constexpr std::string_view kJobSucceeded = "Succeeded";
inline constexpr std::string_view kJobFailed = "Failed";
inline constexpr std::string_view kJobSuspended = "Suspended";
// Reason suffix of the Suspended=False condition written on resume ("TFJobResumed").
inline constexpr std::string_view kJobResumed = "Resumed";

inline constexpr std::string_view kConditionTrue = "True";
inline constexpr std::string_view kConditionFalse = "False";

// Kind + suffix: ConditionReason(JobKind::kTFJob, kJobCreated) == "TFJobCreated".
std::string ConditionReason(JobKind kind, std::string_view suffix);

// Applies one condition; returns true when `status` changed. `now` is RFC 3339.
bool SetCondition(JobStatus& status, std::string_view type, std::string_view condition_status,
                  std::string_view reason, std::string_view message, std::string_view now);
// SetCondition with status True.
bool SetCondition(JobStatus& status, std::string_view type, std::string_view reason,
                  std::string_view message, std::string_view now);

const JobCondition* FindCondition(const JobStatus& status, std::string_view type);
// True when a condition of `type` is present with status True.
bool HasTrueCondition(const JobStatus& status, std::string_view type);
bool IsSucceeded(const JobStatus& status);
bool IsFailed(const JobStatus& status);
bool IsFinished(const JobStatus& status);  // Succeeded or Failed
bool IsSuspended(const JobStatus& status);
// Type of the last condition ("" when none): the State printer column.
std::string_view CurrentState(const JobStatus& status);

}  // namespace kubedl::api
