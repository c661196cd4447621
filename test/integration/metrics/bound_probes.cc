#include "test/integration/metrics/bound_probes.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "kubedl/metrics/job_events.h"

namespace kubedl::metrics::testing {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

absl::StatusOr<ProbedMetrics> StartProbedMetrics(const std::string& binary,
                                                 std::vector<std::string> flags) {
  ProbedMetrics probed;
  probed.process = std::make_unique<MetricsProcess>(binary, FreeLoopbackPort(), FreeLoopbackPort());
  if (!probed.process->Start(absl::Seconds(20), std::move(flags))) {
    return absl::UnavailableError(
        absl::StrCat(binary, " exited or did not answer 200 on 127.0.0.1:",
                     probed.process->http_port(), "/readyz within 20s"));
  }
  probed.stub = v1::MetricsSink::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", probed.process->grpc_port()),
                          grpc::InsecureChannelCredentials()));
  return probed;
}

v1::ReportRequest EventRequest(v1::JobEvent event) {
  v1::ReportRequest request;
  *request.mutable_event() = std::move(event);
  return request;
}

ReportOutcome Report(v1::MetricsSink::Stub& stub,
                     const std::function<bool(v1::ReportRequest&)>& next) {
  grpc::ClientContext context;
  ReportOutcome outcome;
  auto writer = stub.Report(&context, &outcome.summary);
  v1::ReportRequest request;
  while (next(request)) {
    if (!writer->Write(request, grpc::WriteOptions().set_buffer_hint())) break;
    request.Clear();
  }
  writer->WritesDone();
  outcome.status = writer->Finish();
  return outcome;
}

ReportOutcome Report(v1::MetricsSink::Stub& stub, std::vector<v1::ReportRequest> requests) {
  size_t i = 0;
  return Report(stub, [&](v1::ReportRequest& r) {
    if (i == requests.size()) return false;
    r = std::move(requests[i++]);
    return true;
  });
}

DistinctNamespacesOutcome SendJobsInDistinctNamespaces(MetricsProcess& process,
                                                       v1::MetricsSink::Stub& stub, int count,
                                                       absl::Time now) {
  DistinctNamespacesOutcome outcome;
  outcome.count = count;
  outcome.footprint.rss_before = process.ResidentBytes();
  int i = 0;
  outcome.report = Report(stub, [&](v1::ReportRequest& r) {
    if (i == count) return false;
    *r.mutable_event() = JobCreatedEvent(
        MakeJobKey(absl::StrCat("uid-", i), "TFJob", absl::StrCat("ns-", i), "j"), now);
    ++i;
    return true;
  });
  const absl::Time scrape_start = absl::Now();
  // Without a cap the page is hundreds of MB: allow it time.
  outcome.footprint.page = process.ScrapeText(absl::Seconds(60));
  outcome.scrape_time = absl::Now() - scrape_start;
  outcome.footprint.rss_after = process.ResidentBytes();
  return outcome;
}

std::string DistinctNamespacesOutcome::Describe() const {
  return absl::StrFormat("%d namespaces: /metrics %d bytes in %s; RSS %.1f MiB -> %.1f MiB", count,
                         footprint.page.size(), absl::FormatDuration(scrape_time),
                         footprint.rss_before / kMiB, footprint.rss_after / kMiB);
}

MillionPodExitsOutcome MillionPodExits(MetricsProcess& process, v1::MetricsSink::Stub& stub,
                                       absl::Time now) {
  auto exits = [&](const v1::JobKey& key, int count) {
    int i = 0;
    return Report(stub, [&, count](v1::ReportRequest& r) {
      if (i == count) return false;
      *r.mutable_event() =
          PodExitedEvent(key, now, now, "w0", absl::StrCat(key.uid(), "-pod-", i), 137);
      ++i;
      return true;
    });
  };
  MillionPodExitsOutcome outcome;
  outcome.warm_up =
      exits(MakeJobKey("warm-up", "TFJob", "team-a", "w"), MillionPodExitsOutcome::kWarmUpExits);
  outcome.footprint.rss_before = process.ResidentBytes();
  const absl::Time start = absl::Now();
  outcome.million =
      exits(MakeJobKey("one-job", "TFJob", "team-a", "j"), MillionPodExitsOutcome::kExits);
  outcome.million_time = absl::Now() - start;
  outcome.footprint.rss_after = process.ResidentBytes();
  outcome.footprint.page = process.ScrapeText();
  const auto page = ParseExposition(outcome.footprint.page);
  const auto counted = page.find("kubedl_pods_exit_code_total{code=\"137\",kind=\"TFJob\"}");
  outcome.exits_counted = counted == page.end() ? 0 : counted->second;
  return outcome;
}

std::string MillionPodExitsOutcome::Describe() const {
  return absl::StrFormat("1M PodExited on one job in %s: RSS %.1f -> %.1f MiB (+%.1f MiB)",
                         absl::FormatDuration(million_time), footprint.rss_before / kMiB,
                         footprint.rss_after / kMiB, footprint.RssGrowth() / kMiB);
}

FakeReconcilerSnapshotsOutcome SendIncompleteSnapshotsOfFakeReconcilers(
    MetricsProcess& process, v1::MetricsSink::Stub& stub) {
  using Outcome = FakeReconcilerSnapshotsOutcome;
  Outcome outcome;
  outcome.footprint.rss_before = process.ResidentBytes();
  int fake = 0;
  outcome.report = Report(stub, [&](v1::ReportRequest& r) {
    if (fake == Outcome::kFakes) return false;
    v1::LiveJobsSnapshot& part = *r.mutable_snapshot();
    part.set_reconciler_id(absl::StrCat("fake-", fake));
    part.set_generation(1);
    part.set_last(false);
    for (int j = 0; j < Outcome::kJobsPerPart; ++j) {
      *part.add_jobs() = MakeLiveJob(
          MakeJobKey(absl::StrCat("f", fake, "-", j), "TFJob", "team-a", "job"), "Running");
    }
    ++fake;
    return true;
  });
  outcome.footprint.rss_after = process.ResidentBytes();
  outcome.footprint.page = process.ScrapeText();
  return outcome;
}

std::string FakeReconcilerSnapshotsOutcome::Describe() const {
  return absl::StrFormat(
      "%d fake reconcilers, one incomplete %d-job snapshot each: %d accepted, %d refused; RSS "
      "%.1f -> %.1f MiB (+%.1f MiB)",
      kFakes, kJobsPerPart, report.summary.accepted(), report.summary.rejected(),
      footprint.rss_before / kMiB, footprint.rss_after / kMiB, footprint.RssGrowth() / kMiB);
}

}  // namespace kubedl::metrics::testing
