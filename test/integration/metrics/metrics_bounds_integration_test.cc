// Issue 18: what a caller of the MetricsSink port can make kubedl-metrics store, against the real
// process over real gRPC on loopback. Each test is one of the probes, now refused or held
// within a flag's bound; figures (RSS from /proc/<pid>/status, page sizes) are printed. The
// probes live in bound_probes.h; metrics_bounds_bench runs them without the bounds for the
// "before" figures.
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "kubedl/metrics/job_events.h"
#include "kubedl/v1/metrics.grpc.pb.h"
#include "test/integration/metrics/bound_probes.h"
#include "test/integration/metrics/metrics_process.h"

namespace kubedl::metrics {
namespace {

using testing::DistinctNamespacesOutcome;
using testing::EventRequest;
using testing::FakeReconcilerSnapshotsOutcome;
using testing::MetricsProcess;
using testing::MillionPodExitsOutcome;
using testing::ParseExposition;

constexpr double kMiB = 1024.0 * 1024.0;

// The label value of `name` in a series key like `family{kind="TFJob",namespace="x"}`.
std::string LabelIn(const std::string& series, const std::string& name) {
  const std::string start = name + "=\"";
  const size_t at = series.find(start);
  if (at == std::string::npos) return "";
  const size_t from = at + start.size();
  return series.substr(from, series.find('"', from) - from);
}

class MetricsBoundsTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    absl::StatusOr<testing::ProbedMetrics> started =
        testing::StartProbedMetrics(KUBEDL_METRICS_BINARY, std::move(flags));
    ASSERT_TRUE(started.ok()) << "kubedl-metrics did not become ready: " << started.status();
    process_ = std::move(started->process);
    stub_ = std::move(started->stub);
  }

  // One Report stream: writes what `next` produces until it returns false; the server's answer.
  v1::ReportSummary Report(const std::function<bool(v1::ReportRequest&)>& next) {
    return Finished(testing::Report(*stub_, next));
  }
  v1::ReportSummary Report(std::vector<v1::ReportRequest> requests) {
    return Finished(testing::Report(*stub_, std::move(requests)));
  }
  static v1::ReportSummary Finished(const testing::ReportOutcome& outcome) {
    EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
    return outcome.summary;
  }

  double Rejected(const std::map<std::string, double>& page, const std::string& reason) {
    const std::string key =
        absl::StrCat("kubedl_metrics_rejected_messages_total{reason=\"", reason, "\"}");
    return page.contains(key) ? page.at(key) : -1;
  }

  // Sums a family over its series, and counts its distinct `namespace` values.
  static std::pair<double, std::set<std::string>> SumAndNamespaces(
      const std::map<std::string, double>& page, const std::string& family) {
    double sum = 0;
    std::set<std::string> namespaces;
    for (const auto& [series, value] : page) {
      if (series.rfind(family + "{", 0) != 0) continue;
      sum += value;
      namespaces.insert(LabelIn(series, "namespace"));
    }
    return {sum, namespaces};
  }

  // `count` JobCreated events, each a job in its own namespace; the page after them and the
  // process's growth in resident bytes.
  std::pair<std::string, int64_t> SendJobsInDistinctNamespaces(int count) {
    DistinctNamespacesOutcome outcome =
        testing::SendJobsInDistinctNamespaces(*process_, *stub_, count, now_);
    EXPECT_EQ(Finished(outcome.report).accepted(), count);
    std::printf("%s\n", outcome.Describe().c_str());
    return {std::move(outcome.footprint.page), outcome.footprint.RssGrowth()};
  }

  // 1M PodExited events on one job after a warm-up of 20,000 on another; every distinct exit
  // must be counted. Returns the process's growth in resident bytes over the million.
  int64_t MillionPodExitsGrowth() {
    const MillionPodExitsOutcome outcome = testing::MillionPodExits(*process_, *stub_, now_);
    EXPECT_EQ(Finished(outcome.warm_up).accepted(), 20'000);
    EXPECT_EQ(Finished(outcome.million).accepted(), 1'000'000);
    EXPECT_EQ(outcome.exits_counted, 1'020'000) << "every distinct pod exit is counted";
    std::printf("%s\n", outcome.Describe().c_str());
    return outcome.footprint.RssGrowth();
  }

  // kFakes reconcilers each send the first part (kJobsPerPart jobs) of a snapshot and never the
  // rest. The stream's summary and the process's growth in resident bytes.
  static constexpr int kFakes = FakeReconcilerSnapshotsOutcome::kFakes;
  std::pair<v1::ReportSummary, int64_t> SendIncompleteSnapshotsOfFakeReconcilers() {
    const FakeReconcilerSnapshotsOutcome outcome =
        testing::SendIncompleteSnapshotsOfFakeReconcilers(*process_, *stub_);
    std::printf("%s\n", outcome.Describe().c_str());
    return {Finished(outcome.report), outcome.footprint.RssGrowth()};
  }

  const absl::Time now_ = absl::Now();
  std::unique_ptr<MetricsProcess> process_;
  std::unique_ptr<v1::MetricsSink::Stub> stub_;
};

TEST_F(MetricsBoundsTest, FourMegabyteNamespaceIsRejectedAndMetricsStaySmall) {
  Start();
  const size_t page_before = process_->ScrapeText().size();
  const v1::ReportSummary summary = Report(
      {EventRequest(JobCreatedEvent(MakeJobKey("huge", "TFJob", std::string(4'000'000, 'n'), "j"),
                                    now_)),
       EventRequest(JobCreatedEvent(MakeJobKey("fine", "TFJob", "team-a", "j"), now_))});
  EXPECT_EQ(summary.accepted(), 1);
  EXPECT_EQ(summary.rejected(), 1);
  const std::string text = process_->ScrapeText();
  std::printf("/metrics: %zu bytes before, %zu bytes after the 4 MB namespace (issue 18: 212 MB)\n",
              page_before, text.size());
  EXPECT_LT(text.size(), 64u << 10) << "a page of a few kB, not the 212 MB of issue 18";
  EXPECT_EQ(text.find("nnnnnnnnnnnnnnnn"), std::string::npos);
  const auto page = ParseExposition(text);
  EXPECT_EQ(Rejected(page, "invalid_namespace"), 1);
  EXPECT_EQ(page.at("kubedl_jobs_created_total{kind=\"TFJob\",namespace=\"team-a\"}"), 1);
}

TEST_F(MetricsBoundsTest, NamespacesBeyondTheCapAggregateIntoOther) {
  Start();  // the default --max-namespaces=1000
  const auto [text, rss_growth] = SendJobsInDistinctNamespaces(100'000);
  const auto page = ParseExposition(text);
  const auto [created, namespaces] = SumAndNamespaces(page, "kubedl_jobs_created_total");
  EXPECT_EQ(created, 100'000) << "totals over all series stay exact";
  EXPECT_EQ(namespaces.size(), 1001u);
  EXPECT_TRUE(namespaces.contains("_other"));
  EXPECT_EQ(page.at("kubedl_jobs_created_total{kind=\"TFJob\",namespace=\"_other\"}"), 99'000);
  EXPECT_EQ(page.at("kubedl_metrics_namespace_labels"), 1000);
  EXPECT_EQ(page.at("kubedl_metrics_other_namespaces"), 99'000);
  EXPECT_LT(text.size(), 8u << 20);
  EXPECT_LT(rss_growth, 120 * kMiB);
}

TEST_F(MetricsBoundsTest, SeriesOfAForgottenNamespaceAreRemoved) {
  Start({"--retention=3s"});
  const absl::Time t = absl::Now();
  const v1::JobKey gone = MakeJobKey("gone-1", "PyTorchJob", "short-lived", "j");
  const v1::JobKey stays = MakeJobKey("stays-1", "PyTorchJob", "long-lived", "j");
  const v1::ReportSummary summary =
      Report({EventRequest(JobCreatedEvent(gone, t)),
              EventRequest(JobDeletedEvent(gone, t, t + absl::Milliseconds(1))),
              EventRequest(JobCreatedEvent(stays, t))});
  ASSERT_EQ(summary.accepted(), 3);
  const std::string gone_series =
      "kubedl_jobs_deleted_total{kind=\"PyTorchJob\",namespace=\"short-lived\"}";
  const std::string stays_series =
      "kubedl_jobs_created_total{kind=\"PyTorchJob\",namespace=\"long-lived\"}";
  ASSERT_EQ(process_->Scrape()[gone_series], 1);
  // Retention (3 s) after the deletion, the next housekeeping (every second) forgets the job,
  // and with it the namespace's last job: its series leave the page.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::map<std::string, double> page;
  do {
    absl::SleepFor(absl::Milliseconds(200));
    page = process_->Scrape();
  } while (page.contains(gone_series) && absl::Now() < deadline);
  const absl::Duration after = absl::Now() - t;
  for (const auto& [series, value] : page) {
    EXPECT_EQ(series.find("short-lived"), std::string::npos) << series;
  }
  EXPECT_EQ(page[stays_series], 1);
  EXPECT_EQ(page["kubedl_metrics_namespace_series_removed_total"], 1);
  std::printf("the deleted job's namespace left /metrics %s after the deletion\n",
              absl::FormatDuration(after).c_str());
}

TEST_F(MetricsBoundsTest, MillionPodExitsOnOneJobHoldBoundedMemory) {
  Start();  // the default --max-pod-exits-per-job=1000
  const int64_t growth = MillionPodExitsGrowth();
  // Without the bound the 1M pod UIDs took +129 MiB (issue 18), and +32 MiB even as the hashes
  // the service now keeps (metrics_bounds_bench, bench/metrics/).
  EXPECT_LT(growth, 8 * kMiB);
}

TEST_F(MetricsBoundsTest, FakeReconcilerSnapshotsBeyondTheCapAreRefused) {
  Start();  // --max-incomplete-snapshots=4, --max-reconcilers=16
  const auto [summary, growth] = SendIncompleteSnapshotsOfFakeReconcilers();
  EXPECT_EQ(summary.accepted(), 4);
  EXPECT_EQ(summary.rejected(), kFakes - 4);
  const auto page = process_->Scrape();
  EXPECT_EQ(Rejected(page, "too_many_incomplete_snapshots"), kFakes - 4);
  EXPECT_EQ(page.at("kubedl_metrics_rejected_messages_total{reason=\"too_many_reconcilers\"}"),
            0);
  // Four incomplete snapshots of 20,000 jobs are held, not forty.
  EXPECT_LT(growth, 64 * kMiB);
  // A real reconciler's one-part snapshot still gets through.
  v1::ReportRequest real;
  real.mutable_snapshot()->set_reconciler_id("real");
  real.mutable_snapshot()->set_generation(1);
  real.mutable_snapshot()->set_last(true);
  *real.mutable_snapshot()->add_jobs() =
      MakeLiveJob(MakeJobKey("r1", "TFJob", "team-b", "job"), "Running");
  EXPECT_EQ(Report({real}).accepted(), 1);
  EXPECT_EQ(process_->Scrape()["kubedl_jobs_running{kind=\"TFJob\",namespace=\"team-b\"}"], 1);
}

TEST_F(MetricsBoundsTest, FarFutureTimestampIsRejected) {
  Start();
  const v1::JobKey job = MakeJobKey("a", "TFJob", "team-a", "j");
  v1::JobEvent ready_at_max = PodReadyEvent(job, now_, now_, "w0");
  ready_at_max.mutable_time()->set_seconds(253402300799);  // 9999-12-31, protobuf's largest
  v1::JobEvent all_at_max = AllPodsRunningEvent(job, now_, now_, 2);
  all_at_max.mutable_time()->set_seconds(std::numeric_limits<int64_t>::max());
  v1::JobEvent succeeded_at_max =
      ConditionChangedEvent(job, now_, now_, "Succeeded", "True", "S", now_);
  succeeded_at_max.mutable_time()->set_seconds(253402300799);
  const v1::ReportSummary summary =
      Report({EventRequest(ready_at_max), EventRequest(all_at_max),
              EventRequest(succeeded_at_max),
              EventRequest(PodReadyEvent(job, now_ - absl::Seconds(5), now_, "w0")),
              EventRequest(ConditionChangedEvent(job, now_ - absl::Seconds(5), now_, "Succeeded",
                                                 "True", "S", now_ - absl::Seconds(4)))});
  EXPECT_EQ(summary.rejected(), 3);
  EXPECT_EQ(summary.accepted(), 2);
  const auto page = process_->Scrape();
  EXPECT_EQ(Rejected(page, "time_out_of_range"), 3);
  const std::string labels = "{kind=\"TFJob\",namespace=\"team-a\"}";
  EXPECT_EQ(page.at("kubedl_jobs_first_pod_launch_delay_seconds_sum" + labels), 5);
  EXPECT_EQ(page.at("kubedl_jobs_duration_seconds_sum" + labels), 4);
  for (const auto& [series, value] : page) {
    if (series.find("_sum") != std::string::npos) {
      EXPECT_TRUE(std::isfinite(value)) << series;
    }
  }
}

}  // namespace
}  // namespace kubedl::metrics
