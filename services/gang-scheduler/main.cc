// kubedl-gang-scheduler: the kubedl.v1.GangScheduler gRPC service over one backend (volcano,
// scheduler-plugins or kube-batch), keeping each job's PodGroup in the API server.
// Flags, contract and figures: docs/gang-scheduling.md.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "backend_registry.h"
#include "gang_scheduler_service.h"
#include "protected_namespaces.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "kubedl/common/grpc_server_metrics.h"
#include "kubedl/common/grpc_server_security_flags.h"
#include "kubedl/common/grpc_server_start.h"
#include "kubedl/common/http_server.h"
#include "kubedl/common/service_main.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/rest_client.h"
#include "prometheus/registry.h"

DEFINE_string(backend, "volcano",
              "Gang scheduler backend: volcano, scheduler-plugins or kube-batch.");
DEFINE_string(listen_address, "127.0.0.1",
              "Address the gRPC and health ports listen on (the chart gives the pod's IP).");
DEFINE_int32(grpc_port, 9090, "Port of the GangScheduler gRPC service (and gRPC health).");
DEFINE_int32(health_port, 8081, "Plain-HTTP port of /healthz, /readyz and /metrics; 0 = off.");
DEFINE_string(scheduler_plugins_scheduler_name, "scheduler-plugins-scheduler",
              "schedulerName the scheduler-plugins backend puts on pods that name none.");
DEFINE_string(kubeconfig, "",
              "Kubeconfig file; empty: $KUBECONFIG, else in-cluster, else ~/.kube/config.");
DEFINE_string(context, "", "Kubeconfig context to use instead of the current one.");
DEFINE_bool(grpc_reflection, false,
            "Serve gRPC server reflection (for grpcurl); off so callers learn nothing they "
            "were not given.");
DEFINE_int32(workers, 16, "Threads making API server calls for EnsureGang/GetGang/DeleteGang.");
DEFINE_bool(cache_pod_groups, true,
            "Watch the PodGroups this service made and answer unchanged EnsureGang and GetGang "
            "calls from that cache (needs list and watch on the backend's podgroups).");
DEFINE_int32(shutdown_grace_seconds, 10, "Time calls in flight get to finish on SIGTERM.");
DEFINE_string(protected_namespaces, kubedl::gang::kDefaultProtectedNamespaces,
              "Comma-separated namespaces no call may name (PERMISSION_DENIED): no PodGroup is "
              "made, read or deleted there. \"\" protects none.");

namespace kubedl::gang {
namespace {

absl::StatusOr<kube::Config> KubeConfigFromFlags() {
  if (!FLAGS_kubeconfig.empty()) return kube::LoadKubeconfig({FLAGS_kubeconfig}, FLAGS_context);
  if (!FLAGS_context.empty()) return kube::LoadKubeconfigFromEnv(FLAGS_context);
  return kube::DefaultConfig();
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
  absl::StatusOr<common::GrpcServerSecurity> security = common::GrpcServerSecurityFromFlags(
      absl::StrCat(FLAGS_listen_address, ":", FLAGS_grpc_port));
  if (!security.ok()) {
    LOG(ERROR) << security.status().message();
    return 2;
  }
  absl::StatusOr<ProtectedNamespaces> protected_namespaces =
      ProtectedNamespaces::Parse(FLAGS_protected_namespaces);
  if (!protected_namespaces.ok()) {
    LOG(ERROR) << "--protected-namespaces: " << protected_namespaces.status().message();
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

  common::BlockShutdownSignals();

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
  GangSchedulerService service(**backend, **client, FLAGS_workers, pod_groups.get(),
                               *std::move(protected_namespaces));

  // Server reflection, for grpcurl and friends; StartGrpcServer serves it only when asked for.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  absl::StatusOr<common::GrpcServer> grpc_server =
      common::StartGrpcServer({.address = FLAGS_listen_address,
                               .port = FLAGS_grpc_port,
                               .tls = security->tls,
                               .insecure_plaintext = security->insecure_plaintext,
                               .reflection = FLAGS_grpc_reflection,
                               .services = {&service},
                               .metrics = &grpc_metrics});
  if (!grpc_server.ok()) {
    LOG(ERROR) << grpc_server.status().message();
    return 1;
  }
  grpc::Server& server = *grpc_server->server;
  server.GetHealthCheckService()->SetServingStatus(v1::GangScheduler::service_full_name(), true);

  absl::StatusOr<std::unique_ptr<common::HttpServer>> health = common::StartHealthServer(
      FLAGS_listen_address, FLAGS_health_port,
      common::HealthRoutes(registry, ready, "not ready\n"));
  if (!health.ok()) {
    LOG(ERROR) << "cannot start the health server: " << health.status();
    return 1;
  }
  ready->store(true);
  LOG(INFO) << "kubedl-gang-scheduler: backend " << (*backend)->Name() << ", gRPC on "
            << FLAGS_listen_address << ":" << grpc_server->port
            << " (" << security->Name() << ")"
            << (*health ? absl::StrCat(", health on port ", (*health)->port()) : "");

  const int signal = common::WaitForShutdownSignal();
  LOG(INFO) << "kubedl-gang-scheduler: signal " << signal << ", shutting down";
  ready->store(false);
  server.GetHealthCheckService()->Shutdown();
  server.Shutdown(std::chrono::system_clock::now() +
                  std::chrono::seconds(FLAGS_shutdown_grace_seconds));
  if (*health) (*health)->Shutdown(absl::Seconds(1));
  if (pod_groups) pod_groups->Stop();
  return 0;
}

}  // namespace
}  // namespace kubedl::gang

int main(int argc, char** argv) {
  kubedl::common::InitService(
      &argc, &argv,
      "kubedl-gang-scheduler --backend=volcano|scheduler-plugins|kube-batch [--grpc-port=9090]");
  return kubedl::gang::Main();
}
