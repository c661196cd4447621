#include "services/metrics/job_metric_families.h"

namespace kubedl::metrics {
namespace {

prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& r, const char* name,
                                                 const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Gauge>& Gauge(prometheus::Registry& r, const char* name,
                                             const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Histogram>& Histogram(prometheus::Registry& r, const char* name,
                                                     const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

// Exit codes outside a process's range would otherwise let one bad pod add unbounded series.
std::string ExitCodeLabel(int code) {
  return code >= 0 && code <= 255 ? std::to_string(code) : "other";
}

}  // namespace

const prometheus::Histogram::BucketBoundaries& JobMetricFamilies::Buckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600};
  return *buckets;
}

JobMetricFamilies::JobMetricFamilies(prometheus::Registry& registry)
    : created_(Counter(registry, "kubedl_jobs_created_total", "Jobs created, once per job UID.")),
      deleted_(Counter(registry, "kubedl_jobs_deleted_total", "Jobs deleted, once per job UID.")),
      successful_(Counter(registry, "kubedl_jobs_successful_total",
                          "Jobs that succeeded, once per job UID.")),
      failed_(Counter(registry, "kubedl_jobs_failed_total", "Jobs that failed, once per job UID.")),
      restarted_(Counter(registry, "kubedl_jobs_restarted_total",
                         "Restarting transitions, once per distinct transition of a job.")),
      running_(Gauge(registry, "kubedl_jobs_running",
                     "Live jobs whose last condition is Running, from reconciler snapshots.")),
      pending_(Gauge(registry, "kubedl_jobs_pending",
                     "Live jobs whose last condition is Created, from reconciler snapshots.")),
      first_pod_launch_delay_(Histogram(registry, "kubedl_jobs_first_pod_launch_delay_seconds",
                                        "First pod Ready minus job creation, once per job.")),
      all_pods_launch_delay_(Histogram(registry, "kubedl_jobs_all_pods_launch_delay_seconds",
                                       "Last pod Ready when all pods run minus job creation, "
                                       "once per job.")),
      duration_(Histogram(registry, "kubedl_jobs_duration_seconds",
                          "Completion minus start of finished jobs, once per job.")),
      exit_codes_(Counter(registry, "kubedl_pods_exit_code_total",
                          "Pod exits by exit code, once per pod UID.")) {}

JobMetricFamilies::JobSeries& JobMetricFamilies::Series(const std::string& kind,
                                                         const std::string& ns) {
  Key key(kind, ns);
  auto it = series_.find(key);
  if (it != series_.end()) return it->second;
  const prometheus::Labels labels{{"kind", kind}, {"namespace", ns}};
  JobSeries series{
      .created = &created_.Add(labels),
      .deleted = &deleted_.Add(labels),
      .successful = &successful_.Add(labels),
      .failed = &failed_.Add(labels),
      .restarted = &restarted_.Add(labels),
      .first_pod_launch_delay = &first_pod_launch_delay_.Add(labels, Buckets()),
      .all_pods_launch_delay = &all_pods_launch_delay_.Add(labels, Buckets()),
      .duration = &duration_.Add(labels, Buckets()),
  };
  return series_.emplace(std::move(key), series).first->second;
}

prometheus::Counter& JobMetricFamilies::ExitCode(const std::string& kind, int exit_code) {
  const std::string code = ExitCodeLabel(exit_code);
  auto key = std::make_pair(kind, code == "other" ? -1 : exit_code);
  auto it = exit_code_series_.find(key);
  if (it != exit_code_series_.end()) return *it->second;
  auto* counter = &exit_codes_.Add({{"kind", kind}, {"code", code}});
  exit_code_series_.emplace(std::move(key), counter);
  return *counter;
}

void JobMetricFamilies::AddRunning(const std::string& kind, const std::string& ns, double delta) {
  AddToGauge(running_, running_series_, kind, ns, delta);
}

void JobMetricFamilies::AddPending(const std::string& kind, const std::string& ns, double delta) {
  AddToGauge(pending_, pending_series_, kind, ns, delta);
}

void JobMetricFamilies::RemoveNamespace(const std::string& ns,
                                        const std::vector<std::string>& kinds) {
  for (const std::string& kind : kinds) {
    const Key key(kind, ns);
    if (auto it = series_.find(key); it != series_.end()) {
      const JobSeries& series = it->second;
      created_.Remove(series.created);
      deleted_.Remove(series.deleted);
      successful_.Remove(series.successful);
      failed_.Remove(series.failed);
      restarted_.Remove(series.restarted);
      first_pod_launch_delay_.Remove(series.first_pod_launch_delay);
      all_pods_launch_delay_.Remove(series.all_pods_launch_delay);
      duration_.Remove(series.duration);
      series_.erase(it);
    }
    for (auto [family, cache] : {std::pair{&running_, &running_series_},
                                 std::pair{&pending_, &pending_series_}}) {
      if (auto it = cache->find(key); it != cache->end()) {
        family->Remove(it->second);
        cache->erase(it);
      }
    }
  }
}

void JobMetricFamilies::AddToGauge(prometheus::Family<prometheus::Gauge>& family,
                                   absl::flat_hash_map<Key, prometheus::Gauge*>& cache,
                                   const std::string& kind, const std::string& ns, double delta) {
  Key key(kind, ns);
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (delta <= 0) return;
    it = cache.emplace(std::move(key), &family.Add({{"kind", kind}, {"namespace", ns}})).first;
  }
  it->second->Increment(delta);
  if (it->second->Value() <= 0) {
    family.Remove(it->second);
    cache.erase(it);
  }
}

}  // namespace kubedl::metrics
