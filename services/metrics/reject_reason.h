#pragma once

#include <array>

// Why the metrics service refused a report message: the `reason` label of
// kubedl_metrics_rejected_messages_total. A fixed set, so refusals add no series.
namespace kubedl::metrics {

enum class RejectReason {
  kMissingField,                // no UID, no time, no event, a field the event needs is absent
  kInvalidUid,                  // job or pod UID not an object UID (label_rules.h)
  kUnknownKind,                 // a job kind the service does not serve
  kInvalidNamespace,            // not a DNS-1123 label
  kInvalidName,                 // job or pod name not a DNS-1123 subdomain
  kTimeOutOfRange,              // a timestamp before 1970 or beyond now + --max-clock-skew
  kInvalidReconcilerId,         // snapshot without a usable reconciler_id
  kSnapshotTooLarge,            // a snapshot over --max-snapshot-jobs
  kTooManyIncompleteSnapshots,  // over --max-incomplete-snapshots reconcilers mid-snapshot
  kTooManyReconcilers,          // a new reconciler_id while --max-reconcilers are known
};

inline constexpr std::array kAllRejectReasons = {
    RejectReason::kMissingField,        RejectReason::kInvalidUid,
    RejectReason::kUnknownKind,         RejectReason::kInvalidNamespace,
    RejectReason::kInvalidName,         RejectReason::kTimeOutOfRange,
    RejectReason::kInvalidReconcilerId, RejectReason::kSnapshotTooLarge,
    RejectReason::kTooManyIncompleteSnapshots, RejectReason::kTooManyReconcilers,
};

inline const char* ReasonLabel(RejectReason reason) {
  switch (reason) {
    case RejectReason::kMissingField: return "missing_field";
    case RejectReason::kInvalidUid: return "invalid_uid";
    case RejectReason::kUnknownKind: return "unknown_kind";
    case RejectReason::kInvalidNamespace: return "invalid_namespace";
    case RejectReason::kInvalidName: return "invalid_name";
    case RejectReason::kTimeOutOfRange: return "time_out_of_range";
    case RejectReason::kInvalidReconcilerId: return "invalid_reconciler_id";
    case RejectReason::kSnapshotTooLarge: return "snapshot_too_large";
    case RejectReason::kTooManyIncompleteSnapshots: return "too_many_incomplete_snapshots";
    case RejectReason::kTooManyReconcilers: return "too_many_reconcilers";
  }
  return "unknown";
}

}  // namespace kubedl::metrics
