// What mutual TLS costs kubedl-metrics: events per second over one long-lived Report stream into
// the real process (pinned to CPU 0; this client on CPU 1), plaintext against mutual TLS with the
// chart's certificates, the two modes alternating so drift hits both alike.
//
//   metrics_mtls_driver KUBEDL_METRICS CERTS_DIR [RUNS=3] [EVENTS=100000]
//
// CERTS_DIR: what test/integration/mtls/chart_certificates.sh writes (metrics/ and reconciler/,
// each with tls.crt, tls.key, ca.crt).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "kubedl/common/grpc_channel_credentials.h"
#include "kubedl/common/service_main.h"
#include "kubedl/testing/service_process.h"
#include "kubedl/v1/metrics.grpc.pb.h"

namespace {

constexpr char kServerName[] = "kt-kubedl-metrics.kubedl-system.svc";

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// One run: a fresh process, one channel, one stream of `events` JobCreated events; events/s
// from the first write to the server's summary (every event applied), or 0 on failure.
double Run(const std::string& binary, const std::string& certs, bool tls, int events, int run) {
  const int grpc_port = kubedl::testing::FreeLoopbackPort();
  const int http_port = kubedl::testing::FreeLoopbackPort();
  std::vector<std::string> args = {"/usr/bin/taskset", "-c", "0", binary,
                                   "--listen-address=127.0.0.1",
                                   absl::StrCat("--grpc-port=", grpc_port),
                                   absl::StrCat("--http-port=", http_port),
                                   "--max-jobs=10000000", "--minloglevel=1"};
  if (tls) {
    args.push_back("--tls-cert-file=" + certs + "/metrics/tls.crt");
    args.push_back("--tls-key-file=" + certs + "/metrics/tls.key");
    args.push_back("--tls-client-ca-file=" + certs + "/metrics/ca.crt");
  } else {
    args.push_back("--insecure-plaintext");
  }
  kubedl::testing::ServiceProcess service;
  if (!service.Spawn(args) || !service.WaitUntilReady(http_port, absl::Seconds(20))) {
    std::fprintf(stderr, "kubedl-metrics did not start\n");
    return 0;
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      kubedl::common::GrpcChannelCredentials(
          tls ? kubedl::common::GrpcChannelTls{.ca_file = certs + "/reconciler/ca.crt",
                                               .cert_file = certs + "/reconciler/tls.crt",
                                               .key_file = certs + "/reconciler/tls.key"}
              : kubedl::common::GrpcChannelTls{},
          /*insecure_plaintext=*/!tls);
  if (!credentials.ok()) {
    std::fprintf(stderr, "%s\n", credentials.status().ToString().c_str());
    return 0;
  }
  grpc::ChannelArguments channel_args;
  if (tls) channel_args.SetSslTargetNameOverride(kServerName);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", grpc_port), *credentials,
                                           channel_args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20))) {
    std::fprintf(stderr, "no connection\n");
    return 0;
  }
  std::vector<kubedl::v1::ReportRequest> requests(events);
  const auto now = google::protobuf::util::TimeUtil::GetCurrentTime();
  for (int i = 0; i < events; ++i) {
    kubedl::v1::JobEvent& event = *requests[i].mutable_event();
    event.mutable_job()->set_uid(absl::StrCat("bench-", run, "-", i));
    event.mutable_job()->set_kind("TFJob");
    event.mutable_job()->set_namespace_(absl::StrCat("team-", i % 20));
    event.mutable_job()->set_name(absl::StrCat("job-", i));
    *event.mutable_time() = now;
    *event.mutable_job_created() = now;
    event.mutable_created();
  }
  auto stub = kubedl::v1::MetricsSink::NewStub(channel);
  grpc::ClientContext context;
  kubedl::v1::ReportSummary summary;
  const absl::Time start = absl::Now();
  auto writer = stub->Report(&context, &summary);
  // Written as the reconciler's GrpcJobEventSink writes: batches of 256 coalesced into few
  // frames (buffer hints), each batch flushed by its last write.
  constexpr size_t kBatch = 256;
  for (size_t i = 0; i < requests.size(); ++i) {
    grpc::WriteOptions options;
    if ((i + 1) % kBatch != 0 && i + 1 < requests.size()) options.set_buffer_hint();
    if (!writer->Write(requests[i], options)) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  service.Kill();
  if (!status.ok() || summary.accepted() != events) {
    std::fprintf(stderr, "run failed: %s, %lld accepted\n", status.error_message().c_str(),
                 static_cast<long long>(summary.accepted()));
    return 0;
  }
  return events / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s KUBEDL_METRICS CERTS_DIR [RUNS] [EVENTS]\n", argv[0]);
    return 2;
  }
  kubedl::common::DisableMutexDeadlockDetection();  // as in the reconciler
  const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  const int events = argc > 4 ? std::atoi(argv[4]) : 100000;
  std::vector<double> plaintext, mutual;
  for (int run = 0; run < runs; ++run) {
    plaintext.push_back(Run(argv[1], argv[2], false, events, 2 * run));
    mutual.push_back(Run(argv[1], argv[2], true, events, 2 * run + 1));
    std::printf("run %d: plaintext %.0f events/s, mutual TLS %.0f events/s\n", run,
                plaintext.back(), mutual.back());
  }
  const double p = Median(plaintext), m = Median(mutual);
  std::printf("metrics Report stream, %d events/run, median of %d: plaintext %.0f events/s, "
              "mutual TLS %.0f events/s, mTLS/plaintext %.3f\n",
              events, runs, p, m, p > 0 ? m / p : 0);
  return 0;
}
