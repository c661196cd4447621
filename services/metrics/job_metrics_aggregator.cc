#include "services/metrics/job_metrics_aggregator.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "kubedl/api/kind.h"
#include "kubedl/api/kubernetes_names.h"
#include "services/metrics/label_rules.h"

namespace kubedl::metrics {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Shows a refused value without copying megabytes of it into a message or a log line, and with
// control bytes escaped so a value cannot forge log lines.
std::string Excerpt(const std::string& value) {
  constexpr size_t kShown = 80;
  if (value.size() <= kShown) return absl::StrCat("'", absl::CHexEscape(value), "'");
  return absl::StrCat("'", absl::CHexEscape(value.substr(0, kShown)), "...' (", value.size(),
                      " bytes)");
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
      rejected_family_(Counter(registry, "kubedl_metrics_rejected_messages_total",
                               "Report messages (events and snapshot parts) refused, by reason.")),
      namespace_labels_(prometheus::BuildGauge()
                            .Name("kubedl_metrics_namespace_labels")
                            .Help("Namespaces with series of their own now (--max-namespaces).")
                            .Register(registry)
                            .Add({})),
      other_namespaces_(prometheus::BuildGauge()
                            .Name("kubedl_metrics_other_namespaces")
                            .Help("Namespaces counted under namespace=\"_other\" now.")
                            .Register(registry)
                            .Add({})),
      namespaces_removed_(Counter(registry, "kubedl_metrics_namespace_series_removed_total",
                                  "Namespace label values whose series were removed because no "
                                  "remembered or live job is left in them.")
                              .Add({})),
      remembered_transitions_gauge_(
          prometheus::BuildGauge()
              .Name("kubedl_metrics_remembered_transitions")
              .Help("Pod UIDs and Restarting transitions remembered over all jobs now "
                    "(--max-remembered-transitions).")
              .Register(registry)
              .Add({})),
      families_(registry),
      namespaces_(options_.max_namespaces,
                  [this](const std::string& label) {
                    mu_.AssertHeld();
                    ForgetNamespaceSeries(label);
                  }),
      live_(families_, namespaces_, options_.snapshots) {
  for (RejectReason reason : kAllRejectReasons) {
    rejected_by_reason_[reason] = &rejected_family_.Add({{"reason", ReasonLabel(reason)}});
  }
}

void JobMetricsAggregator::ForgetNamespaceSeries(const std::string& label) {
  families_.RemoveNamespace(label, options_.kinds);
  namespaces_removed_.Increment();
}

bool JobMetricsAggregator::Remember(RecentSet& set, uint64_t value, size_t per_job) {
  const size_t before = set.size();
  const size_t capacity = remembered_transitions_ < options_.max_remembered_transitions
                              ? per_job
                              : std::min(per_job, before);
  const bool fresh = set.Insert(value, capacity);
  remembered_transitions_ += set.size() - before;
  return fresh;
}

void JobMetricsAggregator::Reject(RejectReason reason) {
  rejected_by_reason_.at(reason)->Increment();
}

absl::Status JobMetricsAggregator::ValidateTime(const google::protobuf::Timestamp& time,
                                                const char* field, absl::Time now) const {
  // Kubernetes' times are after 1970; nothing that has happened is far ahead of our clock. Within
  // these bounds every delay and duration is finite, so no histogram sum can become Inf or NaN.
  const absl::Time latest = now + options_.max_clock_skew;
  if (time.nanos() < 0 || time.nanos() > 999'999'999 || time.seconds() < 0 ||
      time.seconds() > absl::ToUnixSeconds(latest)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", time.seconds(), "s+", time.nanos(), "ns (Unix) is outside [1970-01-01, now + ",
        absl::FormatDuration(options_.max_clock_skew), "] (--max-clock-skew)"));
  }
  if (ToTime(time) > latest) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is more than ", absl::FormatDuration(options_.max_clock_skew),
                     " ahead of the service's clock (--max-clock-skew)"));
  }
  return absl::OkStatus();
}

absl::Status JobMetricsAggregator::Validate(const v1::JobEvent& event, absl::Time now,
                                            RejectReason* reason) const {
  auto refuse = [reason](RejectReason why, std::string message) {
    *reason = why;
    return absl::InvalidArgumentError(std::move(message));
  };
  const v1::JobKey& job = event.job();
  if (job.uid().empty()) return refuse(RejectReason::kMissingField, "job event without a job UID");
  if (!IsObjectUid(job.uid())) {
    return refuse(RejectReason::kInvalidUid,
                  absl::StrCat("job UID ", Excerpt(job.uid()), " is not 1-", kMaxUidLength,
                               " letters, digits, '-', '_', '.' or ':'"));
  }
  if (!kinds_.contains(job.kind())) {
    return refuse(RejectReason::kUnknownKind,
                  absl::StrCat("unknown job kind ", Excerpt(job.kind())));
  }
  if (!api::IsDns1123Label(job.namespace_())) {
    return refuse(RejectReason::kInvalidNamespace,
                  absl::StrCat("namespace ", Excerpt(job.namespace_()),
                               " is not a DNS-1123 label (at most 63 lowercase letters, digits "
                               "or '-', starting and ending with a letter or digit)"));
  }
  if (!api::IsDns1123Subdomain(job.name())) {
    return refuse(RejectReason::kInvalidName,
                  absl::StrCat("job name ", Excerpt(job.name()),
                               " is not a DNS-1123 subdomain (at most 253 characters)"));
  }
  if (!event.has_time()) return refuse(RejectReason::kMissingField, "job event without a time");
  for (auto [present, time, field] :
       {std::tuple{true, &event.time(), "time"},
        std::tuple{event.has_job_created(), &event.job_created(), "job_created"},
        std::tuple{event.has_condition_changed() && event.condition_changed().has_start_time(),
                   &event.condition_changed().start_time(), "start_time"}}) {
    if (!present) continue;
    if (absl::Status status = ValidateTime(*time, field, now); !status.ok()) {
      *reason = RejectReason::kTimeOutOfRange;
      return status;
    }
  }
  switch (event.event_case()) {
    case v1::JobEvent::EVENT_NOT_SET:
      return refuse(RejectReason::kMissingField, "job event without an event");
    case v1::JobEvent::kPodReady:
    case v1::JobEvent::kAllPodsRunning:
      if (!event.has_job_created()) {
        return refuse(RejectReason::kMissingField, "launch event without the job's creation time");
      }
      if (event.has_pod_ready() && !event.pod_ready().pod_name().empty() &&
          !api::IsDns1123Subdomain(event.pod_ready().pod_name())) {
        return refuse(RejectReason::kInvalidName,
                      absl::StrCat("pod name ", Excerpt(event.pod_ready().pod_name()),
                                   " is not a DNS-1123 subdomain"));
      }
      break;
    case v1::JobEvent::kPodExited:
      if (event.pod_exited().pod_uid().empty()) {
        return refuse(RejectReason::kMissingField, "pod exit without a pod UID");
      }
      if (!IsObjectUid(event.pod_exited().pod_uid())) {
        return refuse(RejectReason::kInvalidUid,
                      absl::StrCat("pod UID ", Excerpt(event.pod_exited().pod_uid()),
                                   " is not 1-", kMaxUidLength,
                                   " letters, digits, '-', '_', '.' or ':'"));
      }
      if (!event.pod_exited().pod_name().empty() &&
          !api::IsDns1123Subdomain(event.pod_exited().pod_name())) {
        return refuse(RejectReason::kInvalidName,
                      absl::StrCat("pod name ", Excerpt(event.pod_exited().pod_name()),
                                   " is not a DNS-1123 subdomain"));
      }
      break;
    case v1::JobEvent::kConditionChanged:
      if (event.condition_changed().type().empty()) {
        return refuse(RejectReason::kMissingField, "condition change without a type");
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status JobMetricsAggregator::Apply(const v1::JobEvent& event) {
  const absl::Time now = clock_.Now();
  RejectReason reason = RejectReason::kMissingField;
  if (absl::Status status = Validate(event, now, &reason); !status.ok()) {
    Record(Outcome::kRejected);
    Reject(reason);
    return status;
  }
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
    namespaces_.Acquire(job.ns);
    job.order = next_order_++;
    insertion_order_.emplace_back(job.order, uid);
    it = jobs_.emplace(uid, std::move(job)).first;
  } else if (time < it->second.horizon) {
    return Outcome::kStale;
  }
  SeenJob& job = it->second;
  JobMetricFamilies::JobSeries& series = families_.Series(job.kind, namespaces_.LabelOf(job.ns));

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
      if (!Remember(job.exited_pods, absl::HashOf(event.pod_exited().pod_uid()),
                    options_.max_pod_exits_per_job)) {
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
    if (!Remember(job.restart_times,
                  static_cast<uint64_t>(absl::ToUnixNanos(ToTime(event.time()))),
                  options_.max_restarts_per_job)) {
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

absl::StatusOr<LiveJobGauges::SnapshotPart> JobMetricsAggregator::ValidSnapshotPart(
    const v1::LiveJobsSnapshot& snapshot, RejectReason* reason) const {
  auto refuse = [reason](RejectReason why, std::string message) {
    *reason = why;
    return absl::InvalidArgumentError(std::move(message));
  };
  if (snapshot.reconciler_id().empty()) {
    return refuse(RejectReason::kInvalidReconcilerId, "snapshot without reconciler_id");
  }
  if (!IsReconcilerId(snapshot.reconciler_id())) {
    return refuse(RejectReason::kInvalidReconcilerId,
                  absl::StrCat("reconciler_id ", Excerpt(snapshot.reconciler_id()), " is not 1-",
                               kMaxReconcilerIdLength, " visible ASCII characters"));
  }
  LiveJobGauges::SnapshotPart part{.reconciler_id = snapshot.reconciler_id(),
                                   .generation = snapshot.generation(),
                                   .last = snapshot.last()};
  part.jobs.reserve(snapshot.jobs_size());
  for (const v1::LiveJob& listed : snapshot.jobs()) {
    const v1::JobKey& job = listed.job();
    // A kind this service does not serve is left out of the gauges, not an error: the
    // reconciler may serve more kinds than the metrics service counts.
    if (!kinds_.contains(job.kind())) continue;
    if (!IsObjectUid(job.uid())) {
      return refuse(RejectReason::kInvalidUid,
                    absl::StrCat("snapshot entry with job UID ", Excerpt(job.uid())));
    }
    if (!api::IsDns1123Label(job.namespace_())) {
      return refuse(RejectReason::kInvalidNamespace,
                    absl::StrCat("snapshot entry with namespace ", Excerpt(job.namespace_()),
                                 ", not a DNS-1123 label"));
    }
    if (!api::IsDns1123Subdomain(job.name())) {
      return refuse(RejectReason::kInvalidName,
                    absl::StrCat("snapshot entry with job name ", Excerpt(job.name()),
                                 ", not a DNS-1123 subdomain"));
    }
    part.jobs.push_back({.uid = job.uid(),
                         .kind = job.kind(),
                         .ns = job.namespace_(),
                         .gauge = LiveJobGauges::GaugeOf(listed.state())});
  }
  return part;
}

absl::Status JobMetricsAggregator::Apply(const v1::LiveJobsSnapshot& snapshot) {
  RejectReason reason = RejectReason::kMissingField;
  absl::StatusOr<LiveJobGauges::SnapshotPart> part = ValidSnapshotPart(snapshot, &reason);
  if (!part.ok()) {
    Reject(reason);
    return part.status();
  }
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  absl::Status status = live_.ApplySnapshotPart(
      *std::move(part), now,
      [this](const LiveJobGauges::ListedJob& job) {
        mu_.AssertHeld();
        auto it = jobs_.find(job.uid);
        return it != jobs_.end() && it->second.finished_at != absl::InfiniteFuture();
      },
      &reason);
  if (status.ok() && snapshot.last()) snapshots_applied_.Increment();
  if (!status.ok()) Reject(reason);
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
  auto it = jobs_.find(uid);
  remembered_transitions_ -= it->second.exited_pods.size() + it->second.restart_times.size();
  const std::string ns = std::move(it->second.ns);
  jobs_.erase(it);
  namespaces_.Release(ns);
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
  namespace_labels_.Set(static_cast<double>(namespaces_.OwnLabels()));
  other_namespaces_.Set(static_cast<double>(namespaces_.OtherNamespaces()));
  remembered_transitions_gauge_.Set(static_cast<double>(remembered_transitions_));
}

}  // namespace kubedl::metrics
