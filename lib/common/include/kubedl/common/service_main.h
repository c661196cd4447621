#pragma once
// What the main() of every kubedl service does around its own work:
//
//   int main(int argc, char** argv) {
//     kubedl::common::InitService(&argc, &argv, "kubedl-x [--port=8080]");
//     ... check the flags (exit 2 on a bad one) ...
//     kubedl::common::BlockShutdownSignals();   // before the first thread starts
//     ... start the servers; ready ...
//     const int signal = kubedl::common::WaitForShutdownSignal();
//     ... drain and stop ...
//   }
#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kubedl/common/http_server.h"
#include "prometheus/registry.h"

namespace kubedl::common {

// Parses the command line (gflags; `usage` is --help's first line), logs to stderr (glog), and
// installs glog's failure signal handler so that a crash (SIGSEGV, SIGABRT, SIGBUS, SIGILL,
// SIGFPE) logs the stack trace of the thread that crashed before the process dies. Turns off
// abseil's mutex deadlock detection (DisableMutexDeadlockDetection).
void InitService(int* argc, char*** argv, const char* usage);

// Turns off abseil's lock-order tracking, which the packaged abseil leaves on. Programs that
// call gRPC under load without InitService (benchmark drivers) call it to measure what a
// service does.
void DisableMutexDeadlockDetection();

// Blocks SIGTERM and SIGINT in the calling thread and so in every thread it starts afterwards:
// from then on they wait for WaitForShutdownSignal instead of ending the process, so a stop is
// a clean shutdown whenever it comes.
void BlockShutdownSignals();

// Waits until SIGTERM or SIGINT (blocked beforehand) arrives; returns which.
int WaitForShutdownSignal();

// The routes of a service's plain-HTTP health port: /healthz ("ok"), /readyz (200 while
// `ready`, else 503 with `not_ready_body`), /metrics (`registry` and the process metrics).
HttpRoutes HealthRoutes(std::shared_ptr<prometheus::Registry> registry,
                        std::shared_ptr<std::atomic<bool>> ready, std::string not_ready_body);

// Serves `routes` over plain HTTP on address:port; null when port is 0 or less (the health
// port turned off).
absl::StatusOr<std::unique_ptr<HttpServer>> StartHealthServer(const std::string& address,
                                                              int port, HttpRoutes routes);

}  // namespace kubedl::common
