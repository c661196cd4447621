// Whole-process figures of kubedl-metrics: events per second it ingests over gRPC when pinned to
// one core (the client runs in this process on the other core), and /metrics latency once it has
// seen 50,000 jobs. Usage: metrics_ingest_driver <path to kubedl-metrics> [runs]
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "kubedl/metrics/grpc_job_event_sink.h"
#include "kubedl/metrics/job_events.h"
#include "kubedl/testing/service_process.h"
#include "test/integration/metrics/metrics_process.h"

namespace kubedl::metrics {
namespace {

constexpr int kJobsPerRun = 50000;
const char* const kKinds[] = {"TFJob", "PyTorchJob", "XGBoostJob", "XDLJob"};

std::vector<v1::ReportRequest> Events(int run) {
  std::vector<v1::ReportRequest> out;
  out.reserve(kJobsPerRun * 6);
  const absl::Time c = absl::Now() - absl::Minutes(10);
  for (int i = 0; i < kJobsPerRun; ++i) {
    const v1::JobKey job = MakeJobKey(absl::StrCat("run", run, "-", i), kKinds[i % 4],
                                      absl::StrCat("ns-", i % 100), "job");
    for (v1::JobEvent& e : std::vector<v1::JobEvent>{
             JobCreatedEvent(job, c), PodReadyEvent(job, c, c + absl::Seconds(3), "w0"),
             AllPodsRunningEvent(job, c, c + absl::Seconds(5), 4),
             ConditionChangedEvent(job, c, c + absl::Seconds(5), "Running", "True", "r"),
             PodExitedEvent(job, c, c + absl::Seconds(60), "w0", absl::StrCat("p", run, i), 0),
             ConditionChangedEvent(job, c, c + absl::Seconds(60), "Succeeded", "True", "s",
                                   c + absl::Seconds(1))}) {
      v1::ReportRequest r;
      *r.mutable_event() = std::move(e);
      out.push_back(std::move(r));
    }
  }
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

// One stream written as fast as gRPC takes it; Finish returns after the server applied all.
double RawStreamEventsPerSecond(v1::MetricsSink::Stub& stub, const std::vector<v1::ReportRequest>& events) {
  grpc::ClientContext context;
  v1::ReportSummary summary;
  const absl::Time start = absl::Now();
  auto writer = stub.Report(&context, &summary);
  for (size_t i = 0; i < events.size(); ++i) {
    grpc::WriteOptions options;
    if ((i + 1) % 64 != 0) options.set_buffer_hint();
    if (!writer->Write(events[i], options)) break;
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!status.ok() || summary.accepted() != static_cast<int64_t>(events.size())) {
    std::fprintf(stderr, "stream failed: %s, accepted %ld of %zu\n",
                 status.error_message().c_str(), static_cast<long>(summary.accepted()),
                 events.size());
    return 0;
  }
  return static_cast<double>(events.size()) / seconds;
}

int Run(const std::string& binary, int runs) {
  PinToCpu(1);
  const int grpc_port = testing::FreeLoopbackPort();
  const int http_port = testing::FreeLoopbackPort();
  // taskset pins the service to CPU 0; this process runs on CPU 1.
  kubedl::testing::ServiceProcess service;
  if (!service.Spawn({"/usr/bin/taskset", "-c", "0", binary, "--listen_address=127.0.0.1", "--insecure_plaintext",
                      absl::StrCat("--grpc_port=", grpc_port),
                      absl::StrCat("--http_port=", http_port), "--max_jobs=1000000",
                      "--retention=6h"})) {
    std::fprintf(stderr, "cannot start %s\n", binary.c_str());
    return 1;
  }
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                     grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20))) {
    std::fprintf(stderr, "kubedl-metrics did not come up\n");
    return 1;
  }
  auto stub = v1::MetricsSink::NewStub(channel);

  std::vector<double> raw;
  for (int run = 0; run < runs; ++run) {
    const auto events = Events(run);
    raw.push_back(RawStreamEventsPerSecond(*stub, events));
    std::printf("raw stream run %d: %.0f events/s\n", run, raw.back());
  }

  // The same through the client library a reconciler uses (its buffer and writer thread).
  std::vector<double> via_sink;
  for (int run = runs; run < 2 * runs; ++run) {
    const auto requests = Events(run);
    GrpcJobEventSink sink({.target = absl::StrCat("127.0.0.1:", grpc_port),
                           .buffer_capacity = requests.size()});
    const absl::Time start = absl::Now();
    for (const auto& r : requests) sink.Send(r.event());
    if (!sink.Flush(absl::Minutes(2))) std::fprintf(stderr, "sink did not drain\n");
    // Flush means written to the stream; a stream end waits for the server to apply them.
    grpc::ClientContext context;
    v1::ReportSummary summary;
    auto writer = stub->Report(&context, &summary);
    writer->WritesDone();
    writer->Finish();
    via_sink.push_back(static_cast<double>(requests.size()) /
                       absl::ToDoubleSeconds(absl::Now() - start));
    std::printf("client library run %d: %.0f events/s\n", run - runs, via_sink.back());
  }

  std::printf("median raw stream: %.0f events/s; median via GrpcJobEventSink: %.0f events/s\n",
              Median(raw), Median(via_sink));
  std::printf("jobs seen: %d\n", 2 * runs * kJobsPerRun);

  std::vector<double> scrape_ms;
  size_t page_bytes = 0;
  for (int i = 0; i < 51; ++i) {
    const absl::Time start = absl::Now();
    testing::HttpAnswer response =
        testing::HttpGet(http_port, "/metrics", testing::kScrapeTimeout);
    if (response.status != 200) break;
    scrape_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    page_bytes = response.body.size();
  }
  if (scrape_ms.empty()) {
    std::printf("/metrics: no HTTP endpoint answered on port %d\n", http_port);
  } else {
    std::sort(scrape_ms.begin(), scrape_ms.end());
    std::printf("/metrics over HTTP: median %.2f ms, p90 %.2f ms, %zu bytes (%zu scrapes)\n",
                Median(scrape_ms), scrape_ms[scrape_ms.size() * 9 / 10], page_bytes,
                scrape_ms.size());
  }
  service.Kill();
  return 0;
}

}  // namespace
}  // namespace kubedl::metrics

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <kubedl-metrics binary> [runs]\n", argv[0]);
    return 2;
  }
  return kubedl::metrics::Run(argv[1], argc > 2 ? std::atoi(argv[2]) : 3);
}
