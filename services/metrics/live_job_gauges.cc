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
  switch (entry.gauge) {
    case Gauge::kRunning:
      families_.AddRunning(entry.kind, entry.ns, delta);
      break;
    case Gauge::kPending:
      families_.AddPending(entry.kind, entry.ns, delta);
      break;
    case Gauge::kNone:
      break;
  }
}

void LiveJobGauges::Erase(absl::flat_hash_map<std::string, LiveEntry>::iterator it) {
  Count(it->second, -1);
  live_.erase(it);
}

absl::Status LiveJobGauges::ApplySnapshotPart(const v1::LiveJobsSnapshot& part, absl::Time now,
                                              size_t max_jobs,
                                              const ExcludedPredicate& excluded) {
  if (part.reconciler_id().empty()) {
    return absl::InvalidArgumentError("snapshot without reconciler_id");
  }
  auto [view_it, inserted] = reconcilers_.try_emplace(part.reconciler_id());
  ReconcilerView& view = view_it->second;
  // A reconciler seen for the first time is as fresh as now, so expiry cannot cut its first
  // snapshot in half.
  if (inserted) view.refreshed = now;
  if (part.generation() != view.building_generation) {
    view.building.clear();
    view.building_generation = part.generation();
  }
  if (view.building.size() + part.jobs_size() > max_jobs) {
    view.building.clear();
    return absl::ResourceExhaustedError(
        absl::StrCat("snapshot of ", part.reconciler_id(), " lists more than ", max_jobs, " jobs"));
  }
  view.building.insert(view.building.end(), part.jobs().begin(), part.jobs().end());
  if (part.last()) ApplyGeneration(part.reconciler_id(), view, now, excluded);
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
  for (const v1::LiveJob& job : view.building) {
    const std::string& uid = job.job().uid();
    if (uid.empty() || excluded(job)) continue;
    if (auto it = live_.find(uid); it != live_.end()) Erase(it);
    LiveEntry entry{job.job().kind(), job.job().namespace_(), GaugeOf(job.state()), reconciler_id};
    Count(entry, +1);
    live_.emplace(uid, std::move(entry));
    view.uids.push_back(uid);
  }
  view.building.clear();
  view.building.shrink_to_fit();
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
      reconcilers_.erase(it++);
      ++expired;
    } else {
      ++it;
    }
  }
  return expired;
}

}  // namespace kubedl::metrics
