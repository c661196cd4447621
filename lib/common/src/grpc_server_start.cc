#include "kubedl/common/grpc_server_start.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server_builder.h"

namespace kubedl::common {
namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const std::optional<TlsFiles>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  if (tls->cert_file.empty() || tls->key_file.empty()) {
    return absl::InvalidArgumentError("gRPC TLS needs both a certificate and a key file");
  }
  const auto refresh = std::max<std::chrono::seconds::rep>(
      1, std::chrono::duration_cast<std::chrono::seconds>(tls->reload_check_interval).count());
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls->key_file, tls->cert_file, static_cast<unsigned int>(refresh));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

absl::StatusOr<GrpcServer> StartGrpcServer(const GrpcServerOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      Credentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  GrpcServer started;
  builder.AddListeningPort(absl::StrCat(options.address, ":", options.port), *credentials,
                           &started.port);
  for (grpc::Service* service : options.services) builder.RegisterService(service);
  // Clients keep one channel open for days and ping it to notice a vanished service; allow it.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(options.metrics->Factory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options.address, ":", options.port));
  }
  return started;
}

}  // namespace kubedl::common
