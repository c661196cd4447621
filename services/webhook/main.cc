// kubedl-webhook: the defaulting and validating admission webhook of the job kinds.
// docs/webhook.md describes the flags, endpoints and metrics.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>

#include "gflags/gflags.h"
#include "absl/time/time.h"
#include "glog/logging.h"
#include "kubedl/api/pod_schema_source.h"
#include "kubedl/api/validation.h"
#include "kubedl/common/http_server.h"
#include "kubedl/common/service_main.h"
#include "prometheus/registry.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/rest_client.h"
#include "services/webhook/webhook_routes.h"

DEFINE_string(bind_address, "0.0.0.0", "Address both ports listen on.");
DEFINE_int32(port, 9443, "HTTPS port of the admission endpoints (and /healthz, /readyz, /metrics).");
DEFINE_int32(health_port, 8081,
             "Plain-HTTP port of /healthz, /readyz and /metrics for probes and scrapes; 0 = off.");
DEFINE_string(cert_file, "", "PEM serving certificate (chain); reloaded when it changes.");
DEFINE_string(key_file, "", "PEM private key of the serving certificate.");
DEFINE_string(client_ca_file, "",
              "PEM CA bundle: when set, callers must present a client certificate it signed "
              "(mutual TLS; the API server presents the one its admission configuration names); "
              "reloaded when it changes. Empty: any caller may connect.");
DEFINE_int32(threads, 2, "I/O threads of the HTTPS server.");
DEFINE_int64(max_body_bytes, 7 << 20,
             "Largest request body; an UPDATE review carries two objects of up to 3 MiB each.");
DEFINE_int64(max_connections, 1024,
             "Most open connections; one more is closed at once (each TLS connection holds its "
             "buffers and session state).");
DEFINE_int32(max_json_depth, kubedl::api::kDefaultMaxJsonDepth,
             "Deepest JSON nesting a request body may have; deeper ones are answered 400 "
             "unparsed.");
DEFINE_int32(read_timeout_ms, 10000, "TLS handshake, request body and response write timeout.");
DEFINE_int32(idle_timeout_ms, 90000, "How long a keep-alive connection may sit idle.");
DEFINE_int32(cert_reload_interval_ms, 1000, "How often the certificate files are checked.");
DEFINE_int32(shutdown_grace_ms, 10000, "Time requests in flight get to finish on SIGTERM.");
DEFINE_string(kubeconfig, "",
              "Kubeconfig of the API server whose Pod schema (/openapi/v3/api/v1) templates are "
              "checked against; empty: $KUBECONFIG, else the in-cluster config, else none (the "
              "built-in schema).");
DEFINE_string(pod_schema_refresh_interval, "10m",
              "How often the served Pod schema is checked for a change (e.g. 30s, 10m, 1h); 0: "
              "read once at start-up.");
DEFINE_int64(max_replicas_per_type, kubedl::api::kDefaultMaxReplicasPerType,
             "Most replicas one replica type of a job may have.");
DEFINE_int64(max_replicas_per_job, kubedl::api::kDefaultMaxReplicasPerJob,
             "Most replicas of all types one job may have.");

namespace {

// /readyz's answer before the server is up and while it drains.
constexpr char kNotReady[] = "starting\n";

// The API server's config: --kubeconfig, else $KUBECONFIG, else in-cluster; nullopt when none
// is configured (a webhook run by hand, the benchmark).
std::optional<absl::StatusOr<kubedl::kube::Config>> ApiServerConfig() {
  namespace kube = kubedl::kube;
  if (!FLAGS_kubeconfig.empty()) return kube::LoadKubeconfig({FLAGS_kubeconfig});
  if (std::getenv("KUBECONFIG") != nullptr) return kube::LoadKubeconfigFromEnv();
  if (std::getenv("KUBERNETES_SERVICE_HOST") != nullptr) return kube::InClusterConfig();
  return std::nullopt;
}

std::unique_ptr<kubedl::api::PodSchemaSource> StartPodSchemaSource(absl::Duration refresh) {
  auto config = ApiServerConfig();
  if (!config) {
    LOG(INFO) << "no API server configured (--kubeconfig, $KUBECONFIG, in-cluster): templates "
                 "are checked against the built-in Pod schema";
    return std::make_unique<kubedl::api::PodSchemaSource>();
  }
  return kubedl::api::NewApiServerPodSchemaSource(*config, refresh);
}

}  // namespace

int main(int argc, char** argv) {
  kubedl::common::InitService(
      &argc, &argv, "kubedl-webhook --cert-file=tls.crt --key-file=tls.key [--port=9443]");
  if (FLAGS_cert_file.empty() || FLAGS_key_file.empty()) {
    LOG(ERROR) << "--cert-file and --key-file are required: the API server only calls HTTPS "
                  "webhooks (tools/certs/gen.sh makes a local pair)";
    return 2;
  }

  absl::Duration refresh;
  if (!absl::ParseDuration(FLAGS_pod_schema_refresh_interval, &refresh) ||
      refresh < absl::ZeroDuration()) {
    LOG(ERROR) << "--pod-schema-refresh-interval: not a duration: \""
               << FLAGS_pod_schema_refresh_interval << "\" (e.g. 10m, 30s, 0)";
    return 2;
  }
  if (FLAGS_max_replicas_per_type < 1 || FLAGS_max_replicas_per_job < 1 ||
      FLAGS_max_json_depth < 1) {
    LOG(ERROR) << "--max-replicas-per-type, --max-replicas-per-job and --max-json-depth must be "
                  "at least 1";
    return 2;
  }

  kubedl::common::BlockShutdownSignals();

  auto registry = std::make_shared<prometheus::Registry>();
  auto ready = std::make_shared<std::atomic<bool>>(false);

  kubedl::common::HttpRoutes routes = kubedl::common::HealthRoutes(registry, ready, kNotReady);
  // Read before serving, so the first review already uses the served schema.
  std::unique_ptr<kubedl::api::PodSchemaSource> pod_schema = StartPodSchemaSource(refresh);
  LOG(INFO) << "Pod schema: " << pod_schema->Current()->origin();
  kubedl::webhook::AddAdmissionRoutes(
      routes, *registry,
      {.pod_schema = [source = pod_schema.get()] { return source->Current(); },
       .max_replicas_per_type = FLAGS_max_replicas_per_type,
       .max_replicas_per_job = FLAGS_max_replicas_per_job,
       .max_json_depth = FLAGS_max_json_depth});
  kubedl::common::HttpServerOptions options{
      .address = FLAGS_bind_address,
      .port = static_cast<uint16_t>(FLAGS_port),
      .threads = FLAGS_threads,
      .tls = kubedl::common::TlsFiles{
          .cert_file = FLAGS_cert_file,
          .key_file = FLAGS_key_file,
          .client_ca_file = FLAGS_client_ca_file,
          .reload_check_interval = std::chrono::milliseconds(FLAGS_cert_reload_interval_ms)},
      .body_limit = static_cast<std::size_t>(FLAGS_max_body_bytes),
      .max_connections = static_cast<std::size_t>(std::max<int64_t>(1, FLAGS_max_connections)),
      .idle_timeout = std::chrono::milliseconds(FLAGS_idle_timeout_ms),
      .read_timeout = std::chrono::milliseconds(FLAGS_read_timeout_ms)};
  auto server = kubedl::common::StartHttpServer(options, std::move(routes));
  if (!server.ok()) {
    LOG(ERROR) << "cannot start the HTTPS server: " << server.status();
    return 1;
  }
  auto health = kubedl::common::StartHealthServer(
      FLAGS_bind_address, FLAGS_health_port,
      kubedl::common::HealthRoutes(registry, ready, kNotReady));
  if (!health.ok()) {
    LOG(ERROR) << "cannot start the health server: " << health.status();
    return 1;
  }
  ready->store(true);
  LOG(INFO) << "kubedl-webhook serving HTTPS on " << FLAGS_bind_address << ":"
            << (*server)->port()
            << (FLAGS_client_ca_file.empty() ? "" : " (mutual TLS: client certificates required)")
            << (*health ? " and health on port " + std::to_string((*health)->port()) : "");

  const int signal = kubedl::common::WaitForShutdownSignal();
  LOG(INFO) << "signal " << signal << ": draining";
  ready->store(false);
  (*server)->Shutdown(absl::Milliseconds(FLAGS_shutdown_grace_ms));
  if (*health) (*health)->Shutdown(absl::Seconds(1));
  LOG(INFO) << "stopped";
  return 0;
}
