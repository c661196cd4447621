#pragma once
// Starts the gRPC server of a kubedl service the one way they all want it:
//
//   kubedl::common::GrpcServerMetrics metrics(*registry);
//   absl::StatusOr<kubedl::common::GrpcServer> grpc = kubedl::common::StartGrpcServer(
//       {.address = "127.0.0.1", .port = 9090, .tls = tls,
//        .services = {&service}, .metrics = &metrics});
//   ...
//   grpc->server->Shutdown(deadline);
//
// The gRPC health service (grpc.health.v1) is on, "" SERVING; a service that reports its own
// name sets it through server->GetHealthCheckService(). Server reflection is served only with
// `reflection` true, and only by a process that links grpc++_reflection (and calls
// grpc::reflection::InitProtoReflectionServerBuilderPlugin() so the linker keeps it): linking it
// alone turns it on for every server, so StartGrpcServer takes the plugin out unless asked.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/server.h"
#include "kubedl/common/grpc_server_metrics.h"
#include "kubedl/common/http_server.h"

namespace kubedl::common {

struct GrpcServerOptions {
  // Loopback unless told otherwise: a service in a pod binds its pod IP, never every address.
  std::string address = "127.0.0.1";
  int port = 0;  // 0 picks a free port (see GrpcServer::port)
  // TLS when set (mutual with tls->client_ca_file), the files re-read every
  // reload_check_interval (whole seconds, at least one).
  std::optional<TlsFiles> tls;
  // Without tls the server refuses to start unless this is true: plaintext is a deliberate
  // choice (local development, tests), never what a forgotten flag gives.
  bool insecure_plaintext = false;
  // Serve grpc.reflection (for grpcurl); off, callers learn nothing they were not given.
  bool reflection = false;
  std::vector<grpc::Service*> services;  // not owned; they outlive the server
  GrpcServerMetrics* metrics = nullptr;  // request metrics of every call when set; not owned
};

struct GrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the bound port
};

// Errors: InvalidArgument for TLS with a file missing from the pair, or a client CA without TLS;
// FailedPrecondition for neither TLS nor insecure_plaintext, or a TLS file that cannot be read;
// Unavailable when the address cannot be listened on ("cannot listen for gRPC on
// <address>:<port>").
absl::StatusOr<GrpcServer> StartGrpcServer(const GrpcServerOptions& options);

}  // namespace kubedl::common
