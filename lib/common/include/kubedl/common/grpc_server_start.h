#pragma once
// Starts the gRPC server of a kubedl service the one way they all want it:
//
//   kubedl::common::GrpcServerMetrics metrics(*registry);
//   absl::StatusOr<kubedl::common::GrpcServer> grpc = kubedl::common::StartGrpcServer(
//       {.address = "0.0.0.0", .port = 9090, .services = {&service}, .metrics = &metrics});
//   ...
//   grpc->server->Shutdown(deadline);
//
// The gRPC health service (grpc.health.v1) is on, "" SERVING; a service that reports its own
// name sets it through server->GetHealthCheckService(). Server reflection is no option here:
// a process that links grpc++_reflection (and calls
// grpc::reflection::InitProtoReflectionServerBuilderPlugin() so the linker keeps it) has it on
// every server it builds, one that does not has it on none.
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
  std::string address = "0.0.0.0";
  int port = 0;  // 0 picks a free port (see GrpcServer::port)
  // TLS when set, the files re-read every reload_check_interval (whole seconds, at least one);
  // plaintext otherwise.
  std::optional<TlsFiles> tls;
  std::vector<grpc::Service*> services;  // not owned; they outlive the server
  GrpcServerMetrics* metrics = nullptr;  // request metrics of every call when set; not owned
};

struct GrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the bound port
};

// Errors: InvalidArgument for TLS with a file missing from the pair, Unavailable when the
// address cannot be listened on ("cannot listen for gRPC on <address>:<port>").
absl::StatusOr<GrpcServer> StartGrpcServer(const GrpcServerOptions& options);

}  // namespace kubedl::common
