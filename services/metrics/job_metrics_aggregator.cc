#include "services/metrics/job_metrics_aggregator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kubedl/api/kind.h"

namespace kubedl::metrics {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Clock skew between API server and nodes can make a delay slightly negative; it is zero.
double NonNegativeSeconds(absl::Duration d) { return std::max(0.0, absl::ToDoubleSeconds(d)); }

prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& r, const char* name,
                                                 const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

std::vector<std::string> AllKindNames() {
  std::vector<std::string> names;
  for (const api::KindDescriptor& kind : api::AllKinds()) names.emplace_back(kind.name);
  return names;
}

JobMetricsAggregator::JobMetricsAggregator(prometheus::Registry& registry,
                                           const common::Clock& clock, AggregatorOptions options)
    : clock_(clock),
      options_(std::move(options)),
      kinds_(options_.kinds.begin(), options_.kinds.end()),
      events_family_(Counter(registry, "kubedl_metrics_events_total",
                             "Job events received by the metrics service, by outcome.")),
      forgotten_family_(Counter(registry, "kubedl_metrics_forgotten_jobs_total",
                                "Job records dropped from memory, by reason.")),
      applied_events_(events_family_.Add({{"outcome", "applied"}})),
      unchanged_events_(events_family_.Add({{"outcome", "unchanged"}})),
      stale_events_(events_family_.Add({{"outcome", "stale"}})),
      rejected_events_(events_family_.Add({{"outcome", "rejected"}})),
      forgotten_after_retention_(forgotten_family_.Add({{"reason", "retention"}})),
      forgotten_at_capacity_(forgotten_family_.Add({{"reason", "capacity"}})),
      snapshots_applied_(Counter(registry, "kubedl_metrics_snapshots_applied_total",
                                 "Complete live-job snapshots applied to the gauges.")
                             .Add({})),
      reconcilers_expired_(Counter(registry, "kubedl_metrics_reconcilers_expired_total",
                                   "Reconcilers dropped from the gauges after the snapshot TTL.")
                               .Add({})),
      tracked_jobs_(prometheus::BuildGauge()
                        .Name("kubedl_metrics_tracked_jobs")
                        .Help("Job UIDs the metrics service remembers.")
                        .Register(registry)
                        .Add({})),
      live_jobs_(prometheus::BuildGauge()
                     .Name("kubedl_metrics_live_jobs")
                     .Help("Live jobs listed by the reconcilers' current snapshots.")
                     .Register(registry)
                     .Add({})),
      families_(registry),
      live_(families_) {}

absl::Status JobMetricsAggregator::Validate(const v1::JobEvent& event) const {
  if (event.job().uid().empty()) return absl::InvalidArgumentError("job event without a job UID");
  if (!kinds_.contains(event.job().kind())) {
    return absl::InvalidArgumentError(absl::StrCat("unknown job kind '", event.job().kind(), "'"));
  }
  if (!event.has_time()) return absl::InvalidArgumentError("job event without a time");
  switch (event.event_case()) {
    case v1::JobEvent::EVENT_NOT_SET:
      return absl::InvalidArgumentError("job event without an event");
    case v1::JobEvent::kPodReady:
    case v1::JobEvent::kAllPodsRunning:
      if (!event.has_job_created()) {
        return absl::InvalidArgumentError("launch event without the job's creation time");
      }
      break;
    case v1::JobEvent::kPodExited:
      if (event.pod_exited().pod_uid().empty()) {
        return absl::InvalidArgumentError("pod exit without a pod UID");
      }
      break;
    case v1::JobEvent::kConditionChanged:
      if (event.condition_changed().type().empty()) {
        return absl::InvalidArgumentError("condition change without a type");
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status JobMetricsAggregator::Apply(const v1::JobEvent& event) {
  if (absl::Status status = Validate(event); !status.ok()) {
    Record(Outcome::kRejected);
    return status;
  }
  const absl::Time now = clock_.Now();
  Outcome outcome;
  {
    absl::MutexLock lock(&mu_);
    outcome = ApplyLocked(event, now);
    UpdateSizeGauges();
  }
  Record(outcome);
  return absl::OkStatus();
}

JobMetricsAggregator::Outcome JobMetricsAggregator::ApplyLocked(const v1::JobEvent& event,
                                                                 absl::Time now) {
  const std::string& uid = event.job().uid();
  const absl::Time time = ToTime(event.time());
  auto it = jobs_.find(uid);
  if (it == jobs_.end()) {
    const absl::Time horizon = now - options_.retention;
    if (time < horizon) return Outcome::kStale;
    if (jobs_.size() >= options_.max_jobs) EvictOne();
    SeenJob job{.kind = event.job().kind(), .ns = event.job().namespace_(), .horizon = horizon};
    job.order = next_order_++;
    insertion_order_.emplace_back(job.order, uid);
    it = jobs_.emplace(uid, std::move(job)).first;
  } else if (time < it->second.horizon) {
    return Outcome::kStale;
  }
  SeenJob& job = it->second;
  JobMetricFamilies::JobSeries& series = families_.Series(job.kind, job.ns);

  switch (event.event_case()) {
    case v1::JobEvent::kCreated:
      if (job.created) return Outcome::kUnchanged;
      job.created = true;
      series.created->Increment();
      return Outcome::kApplied;
    case v1::JobEvent::kPodReady:
      if (job.first_pod_observed) return Outcome::kUnchanged;
      job.first_pod_observed = true;
      series.first_pod_launch_delay->Observe(
          NonNegativeSeconds(time - ToTime(event.job_created())));
      return Outcome::kApplied;
    case v1::JobEvent::kAllPodsRunning:
      if (job.all_pods_observed) return Outcome::kUnchanged;
      job.all_pods_observed = true;
      series.all_pods_launch_delay->Observe(
          NonNegativeSeconds(time - ToTime(event.job_created())));
      return Outcome::kApplied;
    case v1::JobEvent::kConditionChanged:
      return ApplyCondition(uid, job, series, event, now);
    case v1::JobEvent::kPodExited:
      if (!job.exited_pods.insert(event.pod_exited().pod_uid()).second) {
        return Outcome::kUnchanged;
      }
      families_.ExitCode(job.kind, event.pod_exited().exit_code()).Increment();
      return Outcome::kApplied;
    case v1::JobEvent::kDeleted:
      if (job.deleted) return Outcome::kUnchanged;
      job.deleted = true;
      series.deleted->Increment();
      MarkFinished(uid, job, now);
      return Outcome::kApplied;
    case v1::JobEvent::EVENT_NOT_SET:
      break;
  }
  return Outcome::kUnchanged;
}

JobMetricsAggregator::Outcome JobMetricsAggregator::ApplyCondition(
    const std::string& uid, SeenJob& job, JobMetricFamilies::JobSeries& series,
    const v1::JobEvent& event, absl::Time now) {
  const v1::ConditionChanged& condition = event.condition_changed();
  if (condition.status() != "True") return Outcome::kUnchanged;
  const std::string& type = condition.type();
  if (type == "Restarting") {
    if (!job.restart_times.insert(absl::ToUnixNanos(ToTime(event.time()))).second) {
      return Outcome::kUnchanged;
    }
    series.restarted->Increment();
    return Outcome::kApplied;
  }
  if (type != "Succeeded" && type != "Failed") return Outcome::kUnchanged;

  bool moved = false;
  // Succeeded and Failed are sticky (SPEC section 5): the first one received is the job's end.
  if (job.terminal == Terminal::kNone) {
    job.terminal = type == "Succeeded" ? Terminal::kSucceeded : Terminal::kFailed;
    (job.terminal == Terminal::kSucceeded ? series.successful : series.failed)->Increment();
    MarkFinished(uid, job, now);
    moved = true;
  }
  // A job that failed before it started has no start time and no duration.
  if (!job.duration_observed && condition.has_start_time()) {
    job.duration_observed = true;
    series.duration->Observe(
        NonNegativeSeconds(ToTime(event.time()) - ToTime(condition.start_time())));
    moved = true;
  }
  return moved ? Outcome::kApplied : Outcome::kUnchanged;
}

void JobMetricsAggregator::MarkFinished(const std::string& uid, SeenJob& job, absl::Time now) {
  live_.Remove(uid);
  if (job.finished_at != absl::InfiniteFuture()) return;
  job.finished_at = now;
  finished_order_.emplace_back(now, uid);
}

absl::Status JobMetricsAggregator::Apply(const v1::LiveJobsSnapshot& snapshot) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  absl::Status status = live_.ApplySnapshotPart(
      snapshot, now, options_.max_jobs, [this](const v1::LiveJob& job) {
        mu_.AssertHeld();
        if (!kinds_.contains(job.job().kind())) return true;
        auto it = jobs_.find(job.job().uid());
        return it != jobs_.end() && it->second.finished_at != absl::InfiniteFuture();
      });
  if (status.ok() && snapshot.last()) snapshots_applied_.Increment();
  UpdateSizeGauges();
  return status;
}

void JobMetricsAggregator::EvictOne() {
  while (!finished_order_.empty()) {
    auto [finished_at, uid] = std::move(finished_order_.front());
    finished_order_.pop_front();
    auto it = jobs_.find(uid);
    if (it != jobs_.end() && it->second.finished_at == finished_at) {
      Forget(uid, forgotten_at_capacity_);
      return;
    }
  }
  while (!insertion_order_.empty()) {
    auto [order, uid] = std::move(insertion_order_.front());
    insertion_order_.pop_front();
    auto it = jobs_.find(uid);
    if (it != jobs_.end() && it->second.order == order) {
      Forget(uid, forgotten_at_capacity_);
      return;
    }
  }
}

void JobMetricsAggregator::Forget(const std::string& uid, prometheus::Counter& reason) {
  jobs_.erase(uid);
  reason.Increment();
}

void JobMetricsAggregator::CompactInsertionOrder() {
  std::deque<std::pair<uint64_t, std::string>> kept;
  for (auto& [order, uid] : insertion_order_) {
    auto it = jobs_.find(uid);
    if (it != jobs_.end() && it->second.order == order) kept.emplace_back(order, std::move(uid));
  }
  insertion_order_.swap(kept);
}

void JobMetricsAggregator::Housekeep() {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  while (!finished_order_.empty() && finished_order_.front().first + options_.retention <= now) {
    auto [finished_at, uid] = std::move(finished_order_.front());
    finished_order_.pop_front();
    auto it = jobs_.find(uid);
    if (it != jobs_.end() && it->second.finished_at == finished_at) {
      Forget(uid, forgotten_after_retention_);
    }
  }
  // Forgotten jobs leave their insertion entries behind; keep the queue proportional to the map.
  if (insertion_order_.size() > 2 * jobs_.size() + 1024) CompactInsertionOrder();
  const int expired = live_.ExpireReconcilersRefreshedBefore(now - options_.snapshot_ttl);
  if (expired > 0) reconcilers_expired_.Increment(expired);
  UpdateSizeGauges();
}

size_t JobMetricsAggregator::TrackedJobs() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

size_t JobMetricsAggregator::LiveJobs() const {
  absl::MutexLock lock(&mu_);
  return live_.size();
}

void JobMetricsAggregator::Record(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApplied:
      applied_events_.Increment();
      break;
    case Outcome::kUnchanged:
      unchanged_events_.Increment();
      break;
    case Outcome::kStale:
      stale_events_.Increment();
      break;
    case Outcome::kRejected:
      rejected_events_.Increment();
      break;
  }
}

void JobMetricsAggregator::UpdateSizeGauges() {
  tracked_jobs_.Set(static_cast<double>(jobs_.size()));
  live_jobs_.Set(static_cast<double>(live_.size()));
}

}  // namespace kubedl::metrics
