// kubedl-metrics: receives job events from the reconcilers over gRPC and serves the job families
// of SPEC section 7 on /metrics. Flags and metrics: docs/metrics.md.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/server.h"
#include "prometheus/registry.h"
#include "kubedl/common/clock.h"
#include "kubedl/common/grpc_server_security_flags.h"
#include "kubedl/common/grpc_server_start.h"
#include "kubedl/common/http_server.h"
#include "kubedl/common/metrics_handler.h"
#include "kubedl/common/service_main.h"
#include "kubedl/common/status_macros.h"
#include "kubedl/common/grpc_server_metrics.h"
#include "services/metrics/job_metrics_aggregator.h"
#include "services/metrics/metrics_sink_service.h"

DEFINE_string(listen_address, "127.0.0.1",
              "Address the gRPC and HTTP ports listen on (the chart gives the pod's IP).");
DEFINE_int32(grpc_port, 9091, "Port of the MetricsSink gRPC service and the gRPC health service.");
DEFINE_int32(http_port, 8080, "Plain-HTTP port of /metrics, /healthz and /readyz.");
DEFINE_string(retention, "6h",
              "How long a finished or deleted job is remembered, and how old an event for a job "
              "not remembered may be before it is dropped as stale (a duration: 90m, 6h).");
DEFINE_int64(max_jobs, 100000, "Most job UIDs remembered at once.");
DEFINE_string(snapshot_ttl, "5m",
              "A reconciler whose last live-job snapshot is older than this leaves the gauges.");
DEFINE_int64(max_namespaces, 1000,
             "Most namespaces with series of their own; jobs of any other namespace are counted "
             "under namespace=\"_other\".");
DEFINE_int64(max_pod_exits_per_job, 1000,
             "Most pod UIDs remembered per job to count each pod exit once; beyond it the oldest "
             "is forgotten.");
DEFINE_int64(max_restarts_per_job, 1000,
             "Most Restarting transitions remembered per job to count each once; beyond it the "
             "oldest is forgotten.");
DEFINE_int64(max_remembered_transitions, 1000000,
             "Most pod UIDs and Restarting transitions remembered over all jobs together; past "
             "it no job's memory of them grows.");
DEFINE_string(max_clock_skew, "10m",
              "An event whose time (or job_created, start_time) is further than this ahead of "
              "the service's clock is refused (INVALID_ARGUMENT).");
DEFINE_int64(max_snapshot_jobs, 100000, "Most jobs one reconciler's live-job snapshot may list.");
DEFINE_int64(max_incomplete_snapshots, 4,
             "Most reconcilers in the middle of a multi-part snapshot at a time; a further one is "
             "refused (RESOURCE_EXHAUSTED).");
DEFINE_int64(max_reconcilers, 16,
             "Most reconciler_ids known at a time; a snapshot from a further one is refused "
             "(RESOURCE_EXHAUSTED) until a silent one expires after --snapshot-ttl.");
DEFINE_string(housekeeping_interval, "30s",
              "How often finished jobs past retention and silent reconcilers are forgotten.");

namespace kubedl::metrics {
namespace {

absl::StatusOr<absl::Duration> DurationFlag(const char* name, const std::string& value) {
  absl::Duration d;
  if (!absl::ParseDuration(value, &d) || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, "=", value, " is not a positive duration (e.g. 30s, 90m, 6h)"));
  }
  return d;
}

absl::StatusOr<AggregatorOptions> OptionsFromFlags() {
  AggregatorOptions options;
  ASSIGN_OR_RETURN(options.retention, DurationFlag("retention", FLAGS_retention));
  ASSIGN_OR_RETURN(options.snapshot_ttl, DurationFlag("snapshot_ttl", FLAGS_snapshot_ttl));
  if (FLAGS_max_jobs <= 0) return absl::InvalidArgumentError("--max_jobs must be positive");
  options.max_jobs = static_cast<size_t>(FLAGS_max_jobs);
  ASSIGN_OR_RETURN(options.max_clock_skew, DurationFlag("max_clock_skew", FLAGS_max_clock_skew));
  for (auto [name, value, field] : {
           std::tuple{"max_namespaces", FLAGS_max_namespaces, &options.max_namespaces},
           std::tuple{"max_pod_exits_per_job", FLAGS_max_pod_exits_per_job,
                      &options.max_pod_exits_per_job},
           std::tuple{"max_restarts_per_job", FLAGS_max_restarts_per_job,
                      &options.max_restarts_per_job},
           std::tuple{"max_remembered_transitions", FLAGS_max_remembered_transitions,
                      &options.max_remembered_transitions},
           std::tuple{"max_snapshot_jobs", FLAGS_max_snapshot_jobs, &options.snapshots.max_jobs},
           std::tuple{"max_incomplete_snapshots", FLAGS_max_incomplete_snapshots,
                      &options.snapshots.max_incomplete},
           std::tuple{"max_reconcilers", FLAGS_max_reconcilers, &options.snapshots.max_reconcilers},
       }) {
    if (value <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " must be positive"));
    }
    *field = static_cast<size_t>(value);
  }
  return options;
}

int Main() {
  absl::StatusOr<AggregatorOptions> options = OptionsFromFlags();
  absl::StatusOr<absl::Duration> housekeeping =
      DurationFlag("housekeeping_interval", FLAGS_housekeeping_interval);
  for (const absl::Status& status : {options.status(), housekeeping.status()}) {
    if (!status.ok()) {
      LOG(ERROR) << status.message();
      return 2;
    }
  }

  absl::StatusOr<common::GrpcServerSecurity> security = common::GrpcServerSecurityFromFlags(
      absl::StrCat(FLAGS_listen_address, ":", FLAGS_grpc_port));
  if (!security.ok()) {
    LOG(ERROR) << security.status().message();
    return 2;
  }

  common::BlockShutdownSignals();

  auto registry = std::make_shared<prometheus::Registry>();
  JobMetricsAggregator aggregator(*registry, common::RealClock(), *options);
  common::GrpcServerMetrics grpc_metrics(*registry);
  MetricsSinkService service(aggregator);

  absl::StatusOr<common::GrpcServer> grpc_server = common::StartGrpcServer(
      {.address = FLAGS_listen_address,
       .port = FLAGS_grpc_port,
       .tls = security->tls,
       .insecure_plaintext = security->insecure_plaintext,
       .services = {&service},
       .metrics = &grpc_metrics});
  if (!grpc_server.ok()) {
    LOG(ERROR) << grpc_server.status().message();
    return 1;
  }
  LOG(INFO) << "kubedl-metrics: gRPC on " << FLAGS_listen_address << ":" << grpc_server->port
            << " (" << security->Name() << ")";

  // /metrics carries the job families, the gRPC request metrics and the process metrics.
  common::HttpRoutes routes;
  routes["/metrics"] = common::MakeMetricsHandler({registry});
  routes["/healthz"] = [](const common::HttpRequest&) { return common::HttpResponse{.body = "ok"}; };
  routes["/readyz"] = [](const common::HttpRequest&) { return common::HttpResponse{.body = "ok"}; };
  absl::StatusOr<std::unique_ptr<common::HttpServer>> http = common::StartHttpServer(
      {.address = FLAGS_listen_address, .port = static_cast<uint16_t>(FLAGS_http_port)},
      std::move(routes));
  if (!http.ok()) {
    LOG(ERROR) << "cannot serve HTTP on " << FLAGS_listen_address << ":" << FLAGS_http_port << ": "
               << http.status();
    return 1;
  }
  LOG(INFO) << "kubedl-metrics: /metrics on " << FLAGS_listen_address << ":" << (*http)->port();

  absl::Notification stop;
  std::thread housekeeper([&] {
    while (!stop.WaitForNotificationWithTimeout(*housekeeping)) aggregator.Housekeep();
  });

  const int signal = common::WaitForShutdownSignal();
  LOG(INFO) << "kubedl-metrics: signal " << signal << ", shutting down";
  stop.Notify();
  housekeeper.join();
  grpc_server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  (*http)->Shutdown(absl::Seconds(2));
  return 0;
}

}  // namespace
}  // namespace kubedl::metrics

int main(int argc, char** argv) {
  kubedl::common::InitService(
      &argc, &argv, "kubedl-metrics: job metrics of the KubeDL reconcilers for Prometheus");
  return kubedl::metrics::Main();
}
