#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kubedl/common/clock.h"
#include "kubedl/v1/metrics.pb.h"
#include "prometheus/registry.h"
#include "services/metrics/job_metric_families.h"
#include "services/metrics/live_job_gauges.h"
#include "services/metrics/namespace_labels.h"
#include "services/metrics/recent_set.h"
#include "services/metrics/reject_reason.h"

namespace kubedl::metrics {

// The names of lib/api's kinds ("TFJob", ...), in the table's order.
std::vector<std::string> AllKindNames();

struct AggregatorOptions {
  // How long a finished (succeeded, failed or deleted) job is remembered. Also the stale-event
  // horizon: an event older than this for a job the aggregator does not remember is dropped,
  // because it may belong to a job that was counted and then forgotten.
  absl::Duration retention = absl::Hours(1);
  // Most jobs remembered at once; beyond it the oldest finished job, else the oldest job, goes.
  size_t max_jobs = 100000;
  // A reconciler whose last complete snapshot is older than this leaves the gauges.
  absl::Duration snapshot_ttl = absl::Minutes(5);
  // Job kinds accepted as a label value; events of other kinds are rejected. Default: every kind
  // of lib/api's kind table.
  std::vector<std::string> kinds = AllKindNames();
  // Most namespaces with series of their own; the jobs of any other namespace are counted under
  // namespace="_other" (NamespaceLabels).
  size_t max_namespaces = 1000;
  // Most pod UIDs (and, separately, Restarting transition times) remembered per job to count
  // each once; beyond it the oldest is forgotten.
  size_t max_pod_exits_per_job = 1000;
  size_t max_restarts_per_job = 1000;
  // Most pod UIDs and Restarting transitions remembered over all jobs together. Past it a job's
  // memory no longer grows: a new value replaces the job's oldest, and a job with nothing
  // remembered yet counts without remembering.
  size_t max_remembered_transitions = 1'000'000;
  // An event time (or job_created, start_time) further than this ahead of the service's clock is
  // refused, as is any time before 1970.
  absl::Duration max_clock_skew = absl::Minutes(10);
  SnapshotLimits snapshots;
};

// Turns job events and live-job snapshots into the Prometheus families of SPEC section 7, counting
// every transition once per job UID whatever the order or repetition of the events. No gRPC, no
// threads of its own; thread-safe. See docs/metrics.md for the exact rules.
class JobMetricsAggregator {
 public:
  // Registers the job families and the aggregator's own families in `registry`. `clock` is where
  // "now" comes from (retention, snapshot expiry), so tests need not sleep.
  JobMetricsAggregator(prometheus::Registry& registry, const common::Clock& clock,
                       AggregatorOptions options);

  // OK when the event was applied, was a duplicate, or was dropped as stale; InvalidArgument when
  // it is malformed (no UID, unknown kind, no time, no event, missing fields the event needs), a
  // label value breaks Kubernetes' rules (label_rules.h) or a time is out of range. A refused
  // event stores nothing.
  absl::Status Apply(const v1::JobEvent& event) ABSL_LOCKS_EXCLUDED(mu_);
  // See LiveJobGauges::ApplySnapshotPart. InvalidArgument when an entry's UID, namespace or name
  // breaks Kubernetes' rules (the whole part is refused; entries of kinds the service does not
  // serve are left out); ResourceExhausted past a SnapshotLimits bound.
  absl::Status Apply(const v1::LiveJobsSnapshot& snapshot) ABSL_LOCKS_EXCLUDED(mu_);

  // Forgets finished jobs past retention and reconcilers past the snapshot TTL. Call it
  // periodically; Apply never needs it for correctness, only memory does.
  void Housekeep() ABSL_LOCKS_EXCLUDED(mu_);

  size_t TrackedJobs() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t LiveJobs() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class Outcome { kApplied, kUnchanged, kStale, kRejected };
  enum class Terminal { kNone, kSucceeded, kFailed };

  // What the aggregator remembers of one job UID: which of its transitions were counted.
  struct SeenJob {
    std::string kind;
    std::string ns;
    // Events with an earlier time are dropped: they may have been counted by a forgotten record
    // of the same UID.
    absl::Time horizon;
    uint64_t order = 0;  // insertion sequence, for eviction at capacity
    absl::Time finished_at = absl::InfiniteFuture();  // aggregator time it finished/was deleted
    bool created = false;
    bool deleted = false;
    bool first_pod_observed = false;
    bool all_pods_observed = false;
    bool duration_observed = false;
    Terminal terminal = Terminal::kNone;
    RecentSet restart_times;  // Unix nanos of counted Restarting transitions
    RecentSet exited_pods;    // hashes of the pod UIDs whose exit was counted
  };

  absl::Status Validate(const v1::JobEvent& event, absl::Time now, RejectReason* reason) const;
  absl::Status ValidateTime(const google::protobuf::Timestamp& time, const char* field,
                            absl::Time now) const;
  absl::StatusOr<LiveJobGauges::SnapshotPart> ValidSnapshotPart(
      const v1::LiveJobsSnapshot& snapshot, RejectReason* reason) const;
  void Reject(RejectReason reason);
  Outcome ApplyLocked(const v1::JobEvent& event, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Outcome ApplyCondition(const std::string& uid, SeenJob& job, JobMetricFamilies::JobSeries& series,
                         const v1::JobEvent& event, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkFinished(const std::string& uid, SeenJob& job, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictOne() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(const std::string& uid, prometheus::Counter& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CompactInsertionOrder() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Record(Outcome outcome);
  void ForgetNamespaceSeries(const std::string& label) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts into one of a job's RecentSets within both the per-job and the overall bound; true
  // when `value` was not remembered (so the transition counts).
  bool Remember(RecentSet& set, uint64_t value, size_t per_job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateSizeGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const common::Clock& clock_;
  const AggregatorOptions options_;
  const absl::flat_hash_set<std::string> kinds_;

  // The aggregator's own families (docs/metrics.md).
  prometheus::Family<prometheus::Counter>& events_family_;
  prometheus::Family<prometheus::Counter>& forgotten_family_;
  prometheus::Counter& applied_events_;
  prometheus::Counter& unchanged_events_;
  prometheus::Counter& stale_events_;
  prometheus::Counter& rejected_events_;
  prometheus::Counter& forgotten_after_retention_;
  prometheus::Counter& forgotten_at_capacity_;
  prometheus::Counter& snapshots_applied_;
  prometheus::Counter& reconcilers_expired_;
  prometheus::Gauge& tracked_jobs_;
  prometheus::Gauge& live_jobs_;
  prometheus::Family<prometheus::Counter>& rejected_family_;
  absl::flat_hash_map<RejectReason, prometheus::Counter*> rejected_by_reason_;
  prometheus::Gauge& namespace_labels_;
  prometheus::Gauge& other_namespaces_;
  prometheus::Counter& namespaces_removed_;
  prometheus::Gauge& remembered_transitions_gauge_;

  mutable absl::Mutex mu_;
  JobMetricFamilies families_ ABSL_GUARDED_BY(mu_);
  NamespaceLabels namespaces_ ABSL_GUARDED_BY(mu_);
  LiveJobGauges live_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, SeenJob> jobs_ ABSL_GUARDED_BY(mu_);
  uint64_t next_order_ ABSL_GUARDED_BY(mu_) = 0;
  size_t remembered_transitions_ ABSL_GUARDED_BY(mu_) = 0;  // over all jobs' RecentSets
  // Both queues may hold entries of jobs already forgotten; an entry counts only while it matches
  // the record (same order / same finished_at).
  std::deque<std::pair<uint64_t, std::string>> insertion_order_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> finished_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::metrics
