// What kubedl-metrics' issue-18 memory bounds save: each probe of metrics_bounds_integration_test
// (test/integration/metrics/bound_probes.h) run against the real process over real gRPC on
// loopback, once with the default flags and once with its bound lifted, side by side:
//
//   probe                   bound lifted with
//   100k namespaces         --max_namespaces=1000000
//   1M pod exits, one job   --max_pod_exits_per_job=2000000
//   40 fake reconcilers     --max_incomplete_snapshots=1000 --max_reconcilers=1000
//
// Each run is a fresh process; RSS growth is VmRSS of /proc/<pid>/status after the probe's traffic
// minus before it, the page is the /metrics body after it. The integration test asserts the
// bounded figures; this prints both (the unbounded ones are the "before" of docs/metrics.md,
// "Memory bounds"). The unbounded namespaces run needs about 1 GiB of memory and a minute.
//
// Usage: metrics_bounds_bench <path to kubedl-metrics>
//   e.g. build/bench/metrics/metrics_bounds_bench build/services/metrics/kubedl-metrics
// Exits 1 if a probe fails to run (process not ready, stream failed, RSS or page unreadable, or
// the unbounded process still refused what the probe sent).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "test/integration/metrics/bound_probes.h"

namespace kubedl::metrics {
namespace {

using testing::Footprint;
using testing::ProbedMetrics;

constexpr double kMiB = 1024.0 * 1024.0;

// Runs the probe on a started process; `bounded` says which of the two runs this is (a probe
// that sends only what the bound allows must see everything accepted once the bound is lifted).
using ProbeRun = std::function<absl::StatusOr<Footprint>(ProbedMetrics&, bool bounded)>;

struct Probe {
  std::string name;
  std::vector<std::string> unbounded_flags;
  ProbeRun run;
};

absl::Status StreamFinished(const testing::ReportOutcome& outcome, const std::string& what) {
  if (outcome.status.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(what, ": Report stream ended with ",
                                             outcome.status.error_code(), " ",
                                             outcome.status.error_message()));
}

absl::Status Measured(const Footprint& footprint) {
  if (footprint.rss_before <= 0 || footprint.rss_after <= 0) {
    return absl::InternalError("VmRSS of /proc/<pid>/status unreadable");
  }
  if (footprint.page.empty()) return absl::UnavailableError("/metrics did not answer 200");
  return absl::OkStatus();
}

absl::StatusOr<Footprint> DistinctNamespaces(ProbedMetrics& metrics, bool /*bounded*/) {
  constexpr int kNamespaces = 100'000;
  testing::DistinctNamespacesOutcome outcome = testing::SendJobsInDistinctNamespaces(
      *metrics.process, *metrics.stub, kNamespaces, absl::Now());
  std::fprintf(stderr, "  %s\n", outcome.Describe().c_str());
  if (absl::Status s = StreamFinished(outcome.report, "JobCreated"); !s.ok()) return s;
  // Invalid names are refused with or without the cap; all of these are valid.
  if (outcome.report.summary.accepted() != kNamespaces) {
    return absl::InternalError(absl::StrCat(outcome.report.summary.accepted(), " of ",
                                            kNamespaces, " JobCreated accepted"));
  }
  if (absl::Status s = Measured(outcome.footprint); !s.ok()) return s;
  return std::move(outcome.footprint);
}

absl::StatusOr<Footprint> MillionPodExits(ProbedMetrics& metrics, bool /*bounded*/) {
  using Outcome = testing::MillionPodExitsOutcome;
  Outcome outcome = testing::MillionPodExits(*metrics.process, *metrics.stub, absl::Now());
  std::fprintf(stderr, "  %s\n", outcome.Describe().c_str());
  if (absl::Status s = StreamFinished(outcome.warm_up, "warm-up"); !s.ok()) return s;
  if (absl::Status s = StreamFinished(outcome.million, "1M PodExited"); !s.ok()) return s;
  // The bound forgets old pod UIDs, never an exit: every one is counted either way.
  if (outcome.exits_counted != Outcome::kWarmUpExits + Outcome::kExits) {
    return absl::InternalError(
        absl::StrCat(outcome.exits_counted, " pod exits counted, want ",
                     Outcome::kWarmUpExits + Outcome::kExits));
  }
  if (absl::Status s = Measured(outcome.footprint); !s.ok()) return s;
  return std::move(outcome.footprint);
}

absl::StatusOr<Footprint> FakeReconcilerSnapshots(ProbedMetrics& metrics, bool bounded) {
  using Outcome = testing::FakeReconcilerSnapshotsOutcome;
  Outcome outcome =
      testing::SendIncompleteSnapshotsOfFakeReconcilers(*metrics.process, *metrics.stub);
  std::fprintf(stderr, "  %s\n", outcome.Describe().c_str());
  if (absl::Status s = StreamFinished(outcome.report, "snapshot parts"); !s.ok()) return s;
  const v1::ReportSummary& summary = outcome.report.summary;
  if (summary.accepted() + summary.rejected() != Outcome::kFakes ||
      (!bounded && summary.accepted() != Outcome::kFakes)) {
    return absl::InternalError(absl::StrCat(summary.accepted(), " accepted and ",
                                            summary.rejected(), " refused of ", Outcome::kFakes,
                                            " snapshot parts"));
  }
  if (absl::Status s = Measured(outcome.footprint); !s.ok()) return s;
  return std::move(outcome.footprint);
}

// A fresh kubedl-metrics with `flags`, the probe, and the process gone again.
absl::StatusOr<Footprint> RunOnce(const std::string& binary, const Probe& probe, bool bounded) {
  const std::vector<std::string> flags = bounded ? std::vector<std::string>{}
                                                 : probe.unbounded_flags;
  std::fprintf(stderr, "%s, %s\n", probe.name.c_str(),
               bounded ? "default flags" : absl::StrJoin(flags, " ").c_str());
  absl::StatusOr<ProbedMetrics> metrics = testing::StartProbedMetrics(binary, flags);
  if (!metrics.ok()) return metrics.status();
  return probe.run(*metrics, bounded);
}

std::string Bytes(size_t bytes) {
  if (bytes < 1'000'000) return absl::StrFormat("%.1f kB", bytes / 1e3);
  return absl::StrFormat("%.1f MB", bytes / 1e6);
}

std::string Growth(int64_t bytes) { return absl::StrFormat("%+.1f MiB", bytes / kMiB); }

std::string Ratio(int64_t unbounded, int64_t bounded) {
  if (bounded <= 0) return "n/a";  // the bounded run did not grow: no finite ratio
  return absl::StrFormat("%.0fx", static_cast<double>(unbounded) / static_cast<double>(bounded));
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <path to kubedl-metrics>\n", argv[0]);
    return 2;
  }
  const std::string binary = argv[1];
  const std::vector<Probe> probes = {
      {"100k namespaces", {"--max_namespaces=1000000"}, DistinctNamespaces},
      {"1M pod exits, one job", {"--max_pod_exits_per_job=2000000"}, MillionPodExits},
      {"40 fake reconcilers",
       {"--max_incomplete_snapshots=1000", "--max_reconcilers=1000"},
       FakeReconcilerSnapshots},
  };
  // A run's figures; the page itself (unbounded, hundreds of MB) is not kept.
  struct Figures {
    int64_t rss_growth = 0;
    size_t page_bytes = 0;
  };
  struct Row {
    std::string name;
    Figures bounded, unbounded;
  };
  std::vector<Row> rows;
  bool failed = false;
  for (const Probe& probe : probes) {
    Row row{probe.name, {}, {}};
    bool ran = true;
    for (const bool bounded : {true, false}) {
      absl::StatusOr<Footprint> footprint = RunOnce(binary, probe, bounded);
      if (!footprint.ok()) {
        std::fprintf(stderr, "%s (%s) failed to run: %s\n", probe.name.c_str(),
                     bounded ? "bounded" : "unbounded", footprint.status().ToString().c_str());
        ran = false;
        break;
      }
      (bounded ? row.bounded : row.unbounded) = {footprint->RssGrowth(), footprint->page.size()};
    }
    if (ran) {
      rows.push_back(std::move(row));
    } else {
      failed = true;
    }
  }

  std::printf(
      "\n| probe | bounded: RSS growth / page | unbounded: RSS growth / page | RSS ratio |\n");
  std::printf("|---|---|---|---|\n");
  for (const Row& row : rows) {
    std::printf("| %s | %s / %s | %s / %s | %s |\n", row.name.c_str(),
                Growth(row.bounded.rss_growth).c_str(), Bytes(row.bounded.page_bytes).c_str(),
                Growth(row.unbounded.rss_growth).c_str(), Bytes(row.unbounded.page_bytes).c_str(),
                Ratio(row.unbounded.rss_growth, row.bounded.rss_growth).c_str());
  }
  std::printf("\nload average after the runs: %s\n", LoadAverage().c_str());
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace kubedl::metrics

int main(int argc, char** argv) { return kubedl::metrics::Main(argc, argv); }
