#include "kubedl/common/grpc_channel_credentials.h"

#include <algorithm>
#include <utility>

#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "kubedl/common/pem_file.h"
#include "kubedl/common/status_macros.h"

namespace kubedl::common {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> GrpcChannelCredentials(
    const GrpcChannelTls& tls, bool insecure_plaintext) {
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("a gRPC client certificate and its key go together");
  }
  if (tls.ca_file.empty()) {
    if (!tls.cert_file.empty()) {
      return absl::InvalidArgumentError(
          "a gRPC client certificate needs the CA of the server's certificate too");
    }
    if (!insecure_plaintext) {
      return absl::FailedPreconditionError(
          "gRPC without TLS needs an explicit insecure plaintext flag: give the CA of the "
          "server's certificate and a client certificate and key");
    }
    return grpc::InsecureChannelCredentials();
  }
  RETURN_IF_ERROR(CheckPemFile(tls.ca_file, "gRPC server CA"));
  const auto refresh =
      static_cast<unsigned int>(std::max<std::chrono::seconds::rep>(1, tls.reload_check_interval.count()));
  std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> provider;
  if (tls.cert_file.empty()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(tls.ca_file,
                                                                                  refresh);
  } else {
    RETURN_IF_ERROR(CheckPemFile(tls.cert_file, "gRPC client certificate"));
    RETURN_IF_ERROR(CheckPemFile(tls.key_file, "gRPC client key"));
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        tls.key_file, tls.cert_file, tls.ca_file, refresh);
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(std::move(provider));
  options.watch_root_certs();
  if (!tls.cert_file.empty()) options.watch_identity_key_cert_pairs();
  // The chain is checked against the CA, and the name against the target: a certificate the
  // same CA issued to another service (the reconciler's own, say) does not pass for the server.
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  options.set_check_call_host(true);
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace kubedl::common
