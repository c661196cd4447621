#include "services/metrics/live_job_gauges.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kubedl::metrics {

LiveJobGauges::Gauge LiveJobGauges::GaugeOf(const std::string& state) {
  if (state == "Running") return Gauge::kRunning;
  // Created is the only condition of a job none of whose pods has started yet.
  if (state == "Created") return Gauge::kPending;
  return Gauge::kNone;
}

void LiveJobGauges::Count(const LiveEntry& entry, double delta) {
  const std::string& label = namespaces_.LabelOf(entry.ns);
  switch (entry.gauge) {
    case Gauge::kRunning:
      families_.AddRunning(entry.kind, label, delta);
      break;
    case Gauge::kPending:
      families_.AddPending(entry.kind, label, delta);
      break;
    case Gauge::kNone:
      break;
  }
}

void LiveJobGauges::Erase(absl::flat_hash_map<std::string, LiveEntry>::iterator it) {
  Count(it->second, -1);
  const std::string ns = std::move(it->second.ns);
  live_.erase(it);
  namespaces_.Release(ns);
}

void LiveJobGauges::StopBuilding(ReconcilerView& view) {
  if (view.building) --incomplete_;
  view.building = false;
  view.building_jobs.clear();
  view.building_jobs.shrink_to_fit();
}

absl::Status LiveJobGauges::ApplySnapshotPart(SnapshotPart part, absl::Time now,
                                              const ExcludedPredicate& excluded,
                                              RejectReason* reason) {
  auto view_it = reconcilers_.find(part.reconciler_id);
  if (view_it == reconcilers_.end()) {
    if (reconcilers_.size() >= limits_.max_reconcilers) {
      *reason = RejectReason::kTooManyReconcilers;
      return absl::ResourceExhaustedError(absl::StrCat(
          "snapshot of reconciler ", part.reconciler_id, " refused: ", reconcilers_.size(),
          " reconcilers are known (--max-reconcilers); a silent one is forgotten after the "
          "snapshot TTL"));
    }
    // A reconciler seen for the first time is as fresh as now, so expiry cannot cut its first
    // snapshot in half.
    view_it = reconcilers_.try_emplace(part.reconciler_id, ReconcilerView{.refreshed = now}).first;
  }
  ReconcilerView& view = view_it->second;
  // A reconciler refused before it ever completed a snapshot leaves nothing behind.
  auto refuse = [&](RejectReason why, std::string message) {
    StopBuilding(view);
    if (view.uids.empty()) reconcilers_.erase(view_it);
    *reason = why;
    return absl::ResourceExhaustedError(std::move(message));
  };
  if (view.building && part.generation != view.building_generation) StopBuilding(view);
  if (view.building_jobs.size() + part.jobs.size() > limits_.max_jobs) {
    return refuse(RejectReason::kSnapshotTooLarge,
                  absl::StrCat("snapshot of ", part.reconciler_id, " lists more than ",
                               limits_.max_jobs, " jobs (--max-snapshot-jobs)"));
  }
  if (!view.building && !part.last) {
    if (incomplete_ >= limits_.max_incomplete) {
      return refuse(RejectReason::kTooManyIncompleteSnapshots,
                    absl::StrCat("snapshot of ", part.reconciler_id, " refused: ", incomplete_,
                                 " reconcilers are in the middle of a snapshot "
                                 "(--max-incomplete-snapshots)"));
    }
    view.building = true;
    ++incomplete_;
  }
  view.building_generation = part.generation;
  if (view.building_jobs.empty()) {
    view.building_jobs = std::move(part.jobs);
  } else {
    for (ListedJob& job : part.jobs) view.building_jobs.push_back(std::move(job));
  }
  if (part.last) ApplyGeneration(part.reconciler_id, view, now, excluded);
  return absl::OkStatus();
}

void LiveJobGauges::ApplyGeneration(const std::string& reconciler_id, ReconcilerView& view,
                                    absl::Time now, const ExcludedPredicate& excluded) {
  // Replace what this reconciler said before; entries another reconciler listed since stay.
  for (const std::string& uid : view.uids) {
    auto it = live_.find(uid);
    if (it != live_.end() && it->second.reconciler_id == reconciler_id) Erase(it);
  }
  view.uids.clear();
  for (ListedJob& job : view.building_jobs) {
    if (excluded(job)) continue;
    if (auto it = live_.find(job.uid); it != live_.end()) Erase(it);
    namespaces_.Acquire(job.ns);
    LiveEntry entry{std::move(job.kind), std::move(job.ns), job.gauge, reconciler_id};
    Count(entry, +1);
    live_.emplace(job.uid, std::move(entry));
    view.uids.push_back(std::move(job.uid));
  }
  StopBuilding(view);
  view.refreshed = now;
}

void LiveJobGauges::Remove(const std::string& uid) {
  if (auto it = live_.find(uid); it != live_.end()) Erase(it);
}

int LiveJobGauges::ExpireReconcilersRefreshedBefore(absl::Time deadline) {
  int expired = 0;
  for (auto it = reconcilers_.begin(); it != reconcilers_.end();) {
    if (it->second.refreshed < deadline) {
      for (const std::string& uid : it->second.uids) {
        auto live = live_.find(uid);
        if (live != live_.end() && live->second.reconciler_id == it->first) Erase(live);
      }
      StopBuilding(it->second);
      reconcilers_.erase(it++);
      ++expired;
    } else {
      ++it;
    }
  }
  return expired;
}

}  // namespace kubedl::metrics
