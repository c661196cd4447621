// kubedl-gang-scheduler: the kubedl.v1.GangScheduler gRPC service over one backend (volcano,
// scheduler-plugins or kube-batch), keeping each job's PodGroup in the API server.
// Flags, contract and figures: docs/gang-scheduling.md.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "backend_registry.h"
#include "gang_scheduler_service.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "kubedl/common/grpc_server_metrics.h"
#include "kubedl/common/http_server.h"
#include "kubedl/common/metrics_handler.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/rest_client.h"
#include "prometheus/registry.h"

DEFINE_string(backend, "volcano",
              "Gang scheduler backend: volcano, scheduler-plugins or kube-batch.");
DEFINE_string(listen_address, "0.0.0.0", "Address the gRPC and health ports listen on.");
DEFINE_int32(grpc_port, 9090, "Port of the GangScheduler gRPC service (and gRPC health).");
DEFINE_int32(health_port, 8081, "Plain-HTTP port of /healthz, /readyz and /metrics; 0 = off.");
DEFINE_string(scheduler_plugins_scheduler_name, "scheduler-plugins-scheduler",
              "schedulerName the scheduler-plugins backend puts on pods that name none.");
DEFINE_string(kubeconfig, "",
              "Kubeconfig file; empty: $KUBECONFIG, else in-cluster, else ~/.kube/config.");
DEFINE_string(context, "", "Kubeconfig context to use instead of the current one.");
DEFINE_string(tls_cert_file, "",
              "PEM certificate chain of the gRPC port; with --tls-key-file the port speaks TLS "
              "and picks up renewed files within a minute.");
DEFINE_string(tls_key_file, "", "PEM private key of --tls-cert-file.");
DEFINE_int32(workers, 16, "Threads making API server calls for EnsureGang/GetGang/DeleteGang.");
DEFINE_bool(cache_pod_groups, true,
            "Watch the PodGroups this service made and answer unchanged EnsureGang and GetGang "
            "calls from that cache (needs list and watch on the backend's podgroups).");
DEFINE_int32(shutdown_grace_seconds, 10, "Time calls in flight get to finish on SIGTERM.");

namespace kubedl::gang {
namespace {

absl::StatusOr<kube::Config> KubeConfigFromFlags() {
  if (!FLAGS_kubeconfig.empty()) return kube::LoadKubeconfig({FLAGS_kubeconfig}, FLAGS_context);
  if (!FLAGS_context.empty()) return kube::LoadKubeconfigFromEnv(FLAGS_context);
  return kube::DefaultConfig();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> CredentialsFromFlags() {
  if (FLAGS_tls_cert_file.empty() != FLAGS_tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert-file and --tls-key-file go together");
  }
  if (FLAGS_tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      FLAGS_tls_key_file, FLAGS_tls_cert_file, /*refresh_interval_sec=*/60);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  return grpc::experimental::TlsServerCredentials(options);
}

common::HttpRoutes HealthRoutes(std::shared_ptr<prometheus::Registry> registry,
                                std::shared_ptr<std::atomic<bool>> ready) {
  common::HttpRoutes routes;
  routes["/healthz"] = [](const common::HttpRequest&) {
    return common::HttpResponse{.body = "ok\n"};
  };
  routes["/readyz"] = [ready](const common::HttpRequest&) {
    const bool ok = ready->load();
    return common::HttpResponse{.status = ok ? 200 : 503, .body = ok ? "ok\n" : "not ready\n"};
  };
  routes["/metrics"] = common::MakeMetricsHandler({registry});
  return routes;
}

int Main() {
  BackendOptions backend_options;
  backend_options.scheduler_plugins_scheduler_name = FLAGS_scheduler_plugins_scheduler_name;
  absl::StatusOr<std::unique_ptr<GangBackend>> backend =
      MakeBackend(FLAGS_backend, backend_options);
  if (!backend.ok()) {
    LOG(ERROR) << "--backend: " << backend.status().message();
    return 2;
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = CredentialsFromFlags();
  if (!credentials.ok()) {
    LOG(ERROR) << credentials.status().message();
    return 2;
  }
  if (FLAGS_workers < 1) {
    LOG(ERROR) << "--workers must be at least 1";
    return 2;
  }
  absl::StatusOr<kube::Config> config = KubeConfigFromFlags();
  if (!config.ok()) {
    LOG(ERROR) << "cannot load the API server configuration: " << config.status();
    return 2;
  }
  absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::NewClient(*config);
  if (!client.ok()) {
    LOG(ERROR) << "cannot make the API client: " << client.status();
    return 1;
  }

  // Signals are taken by sigwait below; every thread started from here inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto registry = std::make_shared<prometheus::Registry>();
  auto ready = std::make_shared<std::atomic<bool>>(false);
  common::GrpcServerMetrics grpc_metrics(*registry);
  // The informer fills its cache in the background; until it has synced (or when the CRD is
  // not installed yet) every call reads the API server.
  std::unique_ptr<kube::Informer> pod_groups;
  if (FLAGS_cache_pod_groups) {
    kube::InformerOptions options;
    options.resource = (*backend)->PodGroupResource();
    options.label_selector = kGangJobLabel;
    options.transform = [](kube::Object& object) { kube::DropManagedFields(object); };
    pod_groups = kube::NewInformer(**client, std::move(options));
    pod_groups->Start();
  }
  GangSchedulerService service(**backend, **client, FLAGS_workers, pod_groups.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(absl::StrCat(FLAGS_listen_address, ":", FLAGS_grpc_port),
                           *credentials, &grpc_port);
  builder.RegisterService(&service);
  // Reconcilers keep one channel open for days and ping it to notice a vanished service.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(grpc_metrics.Factory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || grpc_port == 0) {
    LOG(ERROR) << "cannot listen for gRPC on " << FLAGS_listen_address << ":" << FLAGS_grpc_port;
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(v1::GangScheduler::service_full_name(), true);

  std::unique_ptr<common::HttpServer> health;
  if (FLAGS_health_port > 0) {
    auto started = common::StartHttpServer(
        {.address = FLAGS_listen_address, .port = static_cast<uint16_t>(FLAGS_health_port)},
        HealthRoutes(registry, ready));
    if (!started.ok()) {
      LOG(ERROR) << "cannot start the health server: " << started.status();
      return 1;
    }
    health = *std::move(started);
  }
  ready->store(true);
  LOG(INFO) << "kubedl-gang-scheduler: backend " << (*backend)->Name() << ", gRPC on "
            << FLAGS_listen_address << ":" << grpc_port
            << (FLAGS_tls_cert_file.empty() ? " (plaintext)" : " (TLS)")
            << (health ? absl::StrCat(", health on port ", health->port()) : "");

  int signal = 0;
  sigwait(&signals, &signal);
  LOG(INFO) << "kubedl-gang-scheduler: signal " << signal << ", shutting down";
  ready->store(false);
  server->GetHealthCheckService()->Shutdown();
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(FLAGS_shutdown_grace_seconds));
  if (health) health->Shutdown(absl::Seconds(1));
  if (pod_groups) pod_groups->Stop();
  return 0;
}

}  // namespace
}  // namespace kubedl::gang

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "kubedl-gang-scheduler --backend=volcano|scheduler-plugins|kube-batch [--grpc-port=9090]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  return kubedl::gang::Main();
}
