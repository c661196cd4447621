#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "kubedl/v1/metrics.pb.h"
#include "services/metrics/job_metric_families.h"

namespace kubedl::metrics {

// The running and pending gauges, rebuilt from the snapshots of live jobs the reconcilers send.
// A snapshot from one reconciler replaces what that reconciler said before; a job listed by two
// reconcilers (a hand-over between leaders) is counted once, for whichever listed it last. A
// reconciler that stops sending snapshots is forgotten after the snapshot TTL. Not thread-safe:
// the aggregator serialises calls.
class LiveJobGauges {
 public:
  // Tells whether a listed job must stay out of the gauges: the aggregator already saw it finish
  // or be deleted (a reconciler's cache may lag), or its kind is not one the service accepts.
  using ExcludedPredicate = std::function<bool(const v1::LiveJob& job)>;

  explicit LiveJobGauges(JobMetricFamilies& families) : families_(families) {}

  // Applies one part of a snapshot. A generation takes effect when its `last` part arrives; a
  // part of another generation drops an incomplete one. InvalidArgument without a reconciler id;
  // ResourceExhausted when one reconciler's snapshot exceeds `max_jobs`.
  absl::Status ApplySnapshotPart(const v1::LiveJobsSnapshot& part, absl::Time now,
                                 size_t max_jobs, const ExcludedPredicate& excluded);

  // The job finished or was deleted: it leaves the gauges until a snapshot lists it again as live
  // (which ExcludedPredicate prevents while the aggregator remembers it).
  void Remove(const std::string& uid);

  // Forgets reconcilers whose last complete snapshot is older than `deadline`; returns how many.
  int ExpireReconcilersRefreshedBefore(absl::Time deadline);

  size_t size() const { return live_.size(); }

 private:
  enum class Gauge { kRunning, kPending, kNone };
  struct LiveEntry {
    std::string kind;
    std::string ns;
    Gauge gauge;
    std::string reconciler_id;
  };
  struct ReconcilerView {
    absl::Time refreshed;  // when its last complete snapshot was applied
    std::vector<std::string> uids;  // what its applied snapshot listed
    uint64_t building_generation = 0;
    std::vector<v1::LiveJob> building;
  };

  static Gauge GaugeOf(const std::string& state);
  void Count(const LiveEntry& entry, double delta);
  void Erase(absl::flat_hash_map<std::string, LiveEntry>::iterator it);
  void ApplyGeneration(const std::string& reconciler_id, ReconcilerView& view, absl::Time now,
                       const ExcludedPredicate& excluded);

  JobMetricFamilies& families_;
  absl::flat_hash_map<std::string, LiveEntry> live_;
  absl::flat_hash_map<std::string, ReconcilerView> reconcilers_;
};

}  // namespace kubedl::metrics
