#pragma once

// The issue-18 probes of kubedl-metrics' memory bounds, each sent to the real process over real
// gRPC on loopback and measured from outside (RSS from /proc/<pid>/status, the /metrics page).
// One copy serves two callers: metrics_bounds_integration_test asserts that the bounded process
// holds, and metrics_bounds_bench (bench/metrics/) runs each probe with and without its bound and
// prints both figures. Needs no gtest: a probe reports what happened and the caller judges it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "kubedl/v1/metrics.grpc.pb.h"
#include "test/integration/metrics/metrics_process.h"

namespace kubedl::metrics::testing {

// kubedl-metrics on free loopback ports (plaintext), ready, with a MetricsSink stub to it.
struct ProbedMetrics {
  std::unique_ptr<MetricsProcess> process;
  std::unique_ptr<v1::MetricsSink::Stub> stub;
};
// `flags` come after MetricsProcess's defaults, so they override them.
absl::StatusOr<ProbedMetrics> StartProbedMetrics(const std::string& binary,
                                                 std::vector<std::string> flags = {});

v1::ReportRequest EventRequest(v1::JobEvent event);

// How one Report stream ended: the gRPC status and the server's summary.
struct ReportOutcome {
  grpc::Status status;
  v1::ReportSummary summary;
};
// One Report stream: writes what `next` produces until it returns false (or a write fails).
ReportOutcome Report(v1::MetricsSink::Stub& stub,
                     const std::function<bool(v1::ReportRequest&)>& next);
ReportOutcome Report(v1::MetricsSink::Stub& stub, std::vector<v1::ReportRequest> requests);

// What every probe measures: resident bytes before and after its traffic, and the /metrics page
// it left.
struct Footprint {
  int64_t rss_before = 0;
  int64_t rss_after = 0;
  std::string page;
  int64_t RssGrowth() const { return rss_after - rss_before; }
};

// `count` JobCreated events, each a job in its own namespace (ns-<i>), on one stream; then one
// scrape (timed: the page grows with the namespaces that get series) and RSS after it.
struct DistinctNamespacesOutcome {
  int count = 0;
  ReportOutcome report;
  absl::Duration scrape_time;
  Footprint footprint;
  std::string Describe() const;
};
DistinctNamespacesOutcome SendJobsInDistinctNamespaces(MetricsProcess& process,
                                                       v1::MetricsSink::Stub& stub, int count,
                                                       absl::Time now);

// 20,000 PodExited events (distinct pod UIDs, exit code 137) on one job to warm gRPC's buffers
// and the allocator, then 1,000,000 on another job: RSS is measured around the million, then
// the page is scraped (kubedl_pods_exit_code_total must count every distinct exit: 1,020,000).
struct MillionPodExitsOutcome {
  static constexpr int kWarmUpExits = 20'000;
  static constexpr int kExits = 1'000'000;
  ReportOutcome warm_up;
  ReportOutcome million;
  absl::Duration million_time;
  double exits_counted = 0;  // kubedl_pods_exit_code_total{code="137",kind="TFJob"}
  Footprint footprint;
  std::string Describe() const;
};
MillionPodExitsOutcome MillionPodExits(MetricsProcess& process, v1::MetricsSink::Stub& stub,
                                       absl::Time now);

// kFakes reconcilers (fake-<i>) each send the first part (kJobsPerPart jobs, generation 1,
// not last) of a snapshot and never the rest, on one stream; RSS after it, then a scrape.
struct FakeReconcilerSnapshotsOutcome {
  static constexpr int kFakes = 40;
  static constexpr int kJobsPerPart = 20'000;
  ReportOutcome report;
  Footprint footprint;
  std::string Describe() const;
};
FakeReconcilerSnapshotsOutcome SendIncompleteSnapshotsOfFakeReconcilers(
    MetricsProcess& process, v1::MetricsSink::Stub& stub);

}  // namespace kubedl::metrics::testing
