#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/metrics/job_metric_families.h"
#include "services/metrics/namespace_labels.h"
#include "services/metrics/reject_reason.h"

namespace kubedl::metrics {

// How much snapshot state the service keeps (docs/metrics.md, "Memory bounds").
struct SnapshotLimits {
  // Most jobs one reconciler's snapshot may list (all its parts together).
  size_t max_jobs = 100000;
  // Most reconcilers that may be in the middle of a snapshot (a part without `last` received,
  // the generation not complete yet) at a time.
  size_t max_incomplete = 4;
  // Most reconciler_ids known at a time (each keeps the list of what its snapshot said until it
  // is silent for the snapshot TTL).
  size_t max_reconcilers = 16;
};

// The running and pending gauges, rebuilt from the snapshots of live jobs the reconcilers send.
// A snapshot from one reconciler replaces what that reconciler said before; a job listed by two
// reconcilers (a hand-over between leaders) is counted once, for whichever listed it last. A
// reconciler that stops sending snapshots is forgotten after the snapshot TTL. Not thread-safe:
// the aggregator serialises calls.
class LiveJobGauges {
 public:
  enum class Gauge { kRunning, kPending, kNone };
  // One snapshot entry, already validated, reduced to what the gauges need.
  struct ListedJob {
    std::string uid;
    std::string kind;
    std::string ns;
    Gauge gauge;
  };
  struct SnapshotPart {
    std::string reconciler_id;
    uint64_t generation = 0;
    bool last = false;
    std::vector<ListedJob> jobs;
  };
  // Tells whether a listed job must stay out of the gauges: the aggregator already saw it finish
  // or be deleted (a reconciler's cache may lag).
  using ExcludedPredicate = std::function<bool(const ListedJob& job)>;

  LiveJobGauges(JobMetricFamilies& families, NamespaceLabels& namespaces, SnapshotLimits limits)
      : families_(families), namespaces_(namespaces), limits_(limits) {}

  // The gauge a LiveJob's state counts in: Running → running, Created → pending, else none.
  static Gauge GaugeOf(const std::string& state);

  // Applies one part of a snapshot. A generation takes effect when its `last` part arrives; a
  // part of another generation drops an incomplete one. ResourceExhausted (and `*reason`) when
  // the part would break a SnapshotLimits bound; the reconciler's incomplete generation is then
  // dropped and its last complete snapshot stands.
  absl::Status ApplySnapshotPart(SnapshotPart part, absl::Time now,
                                 const ExcludedPredicate& excluded, RejectReason* reason);

  // The job finished or was deleted: it leaves the gauges until a snapshot lists it again as live
  // (which ExcludedPredicate prevents while the aggregator remembers it).
  void Remove(const std::string& uid);

  // Forgets reconcilers whose last complete snapshot is older than `deadline` (with their
  // incomplete snapshot, if any); returns how many.
  int ExpireReconcilersRefreshedBefore(absl::Time deadline);

  size_t size() const { return live_.size(); }
  size_t reconcilers() const { return reconcilers_.size(); }
  size_t incomplete_snapshots() const { return incomplete_; }

 private:
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
    bool building = false;  // a part of building_generation arrived, its `last` has not
    std::vector<ListedJob> building_jobs;
  };

  void Count(const LiveEntry& entry, double delta);
  void Erase(absl::flat_hash_map<std::string, LiveEntry>::iterator it);
  void StopBuilding(ReconcilerView& view);
  void ApplyGeneration(const std::string& reconciler_id, ReconcilerView& view, absl::Time now,
                       const ExcludedPredicate& excluded);

  JobMetricFamilies& families_;
  NamespaceLabels& namespaces_;
  const SnapshotLimits limits_;
  absl::flat_hash_map<std::string, LiveEntry> live_;
  absl::flat_hash_map<std::string, ReconcilerView> reconcilers_;
  size_t incomplete_ = 0;  // views with `building` set
};

}  // namespace kubedl::metrics
