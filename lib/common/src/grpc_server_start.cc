#include "kubedl/common/grpc_server_start.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kubedl/common/pem_file.h"
#include "kubedl/common/status_macros.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/server_builder.h"

namespace kubedl::common {
namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const GrpcServerOptions& server) {
  const std::optional<TlsFiles>& tls = server.tls;
  if (!tls) {
    if (!server.insecure_plaintext) {
      return absl::FailedPreconditionError(
          "gRPC without TLS needs an explicit insecure_plaintext (--insecure-plaintext): give a "
          "certificate and key (--tls-cert-file, --tls-key-file), and a client CA "
          "(--tls-client-ca-file) to require client certificates");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls->cert_file.empty() || tls->key_file.empty()) {
    return absl::InvalidArgumentError("gRPC TLS needs both a certificate and a key file");
  }
  RETURN_IF_ERROR(CheckPemFile(tls->cert_file, "gRPC TLS certificate"));
  RETURN_IF_ERROR(CheckPemFile(tls->key_file, "gRPC TLS key"));
  const bool mutual = !tls->client_ca_file.empty();
  if (mutual) RETURN_IF_ERROR(CheckPemFile(tls->client_ca_file, "gRPC client CA"));
  const auto refresh = std::max<std::chrono::seconds::rep>(
      1, std::chrono::duration_cast<std::chrono::seconds>(tls->reload_check_interval).count());
  // One provider watches all three files, so a renewed certificate, key or CA bundle reaches new
  // handshakes without a restart (connections already open keep what they agreed on).
  auto provider = mutual
                      ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            tls->key_file, tls->cert_file, tls->client_ca_file,
                            static_cast<unsigned int>(refresh))
                      : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            tls->key_file, tls->cert_file, static_cast<unsigned int>(refresh));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

// Takes the reflection plugin (which grpc++_reflection registers for every ServerBuilder once it
// is linked) out of one builder.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    std::erase_if(*plugins, [](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
      return plugin->name() == "proto_server_reflection";
    });
  }
};

}  // namespace

absl::StatusOr<GrpcServer> StartGrpcServer(const GrpcServerOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      Credentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  GrpcServer started;
  builder.AddListeningPort(absl::StrCat(options.address, ":", options.port), *credentials,
                           &started.port);
  for (grpc::Service* service : options.services) builder.RegisterService(service);
  if (!options.reflection) builder.SetOption(std::make_unique<WithoutReflection>());
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
