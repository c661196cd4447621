#include "kubedl/common/service_main.h"

#include <pthread.h>

#include <csignal>
#include <cstdint>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "kubedl/common/metrics_handler.h"

namespace kubedl::common {
namespace {

sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

}  // namespace

void InitService(int* argc, char*** argv, const char* usage) {
  gflags::SetUsageMessage(usage);
  gflags::ParseCommandLineFlags(argc, argv, true);
  google::InitGoogleLogging((*argv)[0]);
  FLAGS_logtostderr = true;
  google::InstallFailureSignalHandler();
  DisableMutexDeadlockDetection();
  // glog's handler takes SIGTERM too; a SIGTERM asks for a stop, it is no crash. Before a service
  // blocks it (BlockShutdownSignals) it keeps its default action, without a stack trace.
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGTERM, &default_action, nullptr);
}

void DisableMutexDeadlockDetection() {
  // The packaged abseil is built without NDEBUG, so each absl::Mutex lock (every one gRPC takes)
  // also updates a global lock-order graph: a debugging aid that costs several per cent of a
  // service's CPU under load.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

void BlockShutdownSignals() {
  const sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int WaitForShutdownSignal() {
  const sigset_t signals = ShutdownSignals();
  int signal = 0;
  sigwait(&signals, &signal);
  return signal;
}

HttpRoutes HealthRoutes(std::shared_ptr<prometheus::Registry> registry,
                        std::shared_ptr<std::atomic<bool>> ready, std::string not_ready_body) {
  HttpRoutes routes;
  routes["/healthz"] = [](const HttpRequest&) { return HttpResponse{.body = "ok\n"}; };
  routes["/readyz"] = [ready = std::move(ready),
                       not_ready_body = std::move(not_ready_body)](const HttpRequest&) {
    const bool ok = ready->load();
    return HttpResponse{.status = ok ? 200 : 503, .body = ok ? "ok\n" : not_ready_body};
  };
  routes["/metrics"] = MakeMetricsHandler({std::move(registry)});
  return routes;
}

absl::StatusOr<std::unique_ptr<HttpServer>> StartHealthServer(const std::string& address,
                                                              int port, HttpRoutes routes) {
  if (port <= 0) return nullptr;
  return StartHttpServer({.address = address, .port = static_cast<uint16_t>(port)},
                         std::move(routes));
}

}  // namespace kubedl::common
