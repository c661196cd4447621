// In-process figures of the aggregation: events per second on one core, and the cost of a
// /metrics scrape (collect + text serialisation) after 50,000 jobs.
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "kubedl/common/clock.h"
#include "kubedl/metrics/job_events.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "services/metrics/job_metrics_aggregator.h"

namespace kubedl::metrics {
namespace {

const char* const kKinds[] = {"TFJob", "PyTorchJob", "XGBoostJob", "XDLJob"};

// A job's typical life: created, first pod Ready, all Running, Running, one pod exit, Succeeded.
std::vector<v1::JobEvent> Lifecycle(int i, int namespaces) {
  const v1::JobKey job = MakeJobKey("uid-" + std::to_string(i), kKinds[i % 4],
                                    "ns-" + std::to_string(i % namespaces), "job");
  const absl::Time c = absl::Now() - absl::Minutes(10);
  return {JobCreatedEvent(job, c),
          PodReadyEvent(job, c, c + absl::Seconds(3), "w0"),
          AllPodsRunningEvent(job, c, c + absl::Seconds(5), 4),
          ConditionChangedEvent(job, c, c + absl::Seconds(5), "Running", "True", "r",
                                c + absl::Seconds(1)),
          PodExitedEvent(job, c, c + absl::Seconds(60), "w0", "pod-" + std::to_string(i), 0),
          ConditionChangedEvent(job, c, c + absl::Seconds(60), "Succeeded", "True", "s",
                                c + absl::Seconds(1))};
}

// New jobs, every event applied for the first time.
void BM_ApplyNewJobEvents(benchmark::State& state) {
  prometheus::Registry registry;
  JobMetricsAggregator aggregator(registry, common::RealClock(), {.max_jobs = 100000});
  std::vector<std::vector<v1::JobEvent>> jobs;
  for (int i = 0; i < 20000; ++i) jobs.push_back(Lifecycle(i, 100));
  size_t next = 0;
  int64_t events = 0;
  for (auto _ : state) {
    for (const auto& e : jobs[next]) benchmark::DoNotOptimize(aggregator.Apply(e));
    events += 6;
    if (++next == jobs.size()) {
      state.PauseTiming();  // a fresh set of UIDs so nothing becomes a duplicate
      for (auto& job : jobs) {
        for (auto& e : job) e.mutable_job()->set_uid(e.job().uid() + "x");
      }
      next = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_ApplyNewJobEvents);

// Re-sent events: the deduplication path.
void BM_ApplyDuplicateEvents(benchmark::State& state) {
  prometheus::Registry registry;
  JobMetricsAggregator aggregator(registry, common::RealClock(), {});
  std::vector<v1::JobEvent> events;
  for (int i = 0; i < 1000; ++i) {
    for (auto& e : Lifecycle(i, 100)) events.push_back(std::move(e));
  }
  for (const auto& e : events) (void)aggregator.Apply(e);
  size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(aggregator.Apply(events[next]));
    if (++next == events.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyDuplicateEvents);

// A scrape after 50,000 jobs (in 100 namespaces x 4 kinds) and a snapshot of 5,000 live ones:
// what /metrics costs beyond the HTTP exchange.
void BM_ScrapeAfter50kJobs(benchmark::State& state) {
  prometheus::Registry registry;
  JobMetricsAggregator aggregator(registry, common::RealClock(), {.max_jobs = 100000});
  const int namespaces = static_cast<int>(state.range(0));
  for (int i = 0; i < 50000; ++i) {
    for (const auto& e : Lifecycle(i, namespaces)) (void)aggregator.Apply(e);
  }
  v1::LiveJobsSnapshot snapshot;
  snapshot.set_reconciler_id("r");
  snapshot.set_last(true);
  for (int i = 0; i < 5000; ++i) {
    *snapshot.add_jobs() = MakeLiveJob(
        MakeJobKey("live-" + std::to_string(i), kKinds[i % 4],
                   "ns-" + std::to_string(i % namespaces), "j"),
        i % 3 ? "Running" : "Created");
  }
  (void)aggregator.Apply(snapshot);
  prometheus::TextSerializer serializer;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = serializer.Serialize(registry.Collect());
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["page_bytes"] = static_cast<double>(bytes);
  state.counters["tracked_jobs"] = static_cast<double>(aggregator.TrackedJobs());
}
BENCHMARK(BM_ScrapeAfter50kJobs)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kubedl::metrics

BENCHMARK_MAIN();
