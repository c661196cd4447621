#include "kubedl/common/grpc_server_security_flags.h"

#include <chrono>

#include "absl/status/status.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(tls_cert_file, "",
              "PEM certificate chain of the gRPC port; with --tls-key-file the port speaks TLS "
              "and picks up renewed files within a minute.");
DEFINE_string(tls_key_file, "", "PEM private key of --tls-cert-file.");
DEFINE_string(tls_client_ca_file, "",
              "PEM CA bundle of the callers' certificates: when set, every gRPC caller must "
              "present a certificate it signed (mutual TLS); re-read like the other files.");
DEFINE_bool(insecure_plaintext, false,
            "Serve gRPC without TLS, to anyone who can reach the port. For local development "
            "only: without TLS files the service refuses to start unless this is set.");

namespace kubedl::common {

const char* GrpcServerSecurity::Name() const {
  if (!tls) return "plaintext";
  return tls->client_ca_file.empty() ? "TLS" : "mutual TLS";
}

absl::StatusOr<GrpcServerSecurity> GrpcServerSecurityFromFlags(const std::string& address) {
  if (FLAGS_tls_cert_file.empty() != FLAGS_tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert-file and --tls-key-file go together");
  }
  if (!FLAGS_tls_client_ca_file.empty() && FLAGS_tls_cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca-file needs TLS: give --tls-cert-file and --tls-key-file too");
  }
  GrpcServerSecurity security;
  security.insecure_plaintext = FLAGS_insecure_plaintext;
  if (!FLAGS_tls_cert_file.empty()) {
    security.tls = TlsFiles{.cert_file = FLAGS_tls_cert_file,
                            .key_file = FLAGS_tls_key_file,
                            .client_ca_file = FLAGS_tls_client_ca_file,
                            .reload_check_interval = std::chrono::minutes(1)};
    return security;
  }
  if (!FLAGS_insecure_plaintext) {
    return absl::InvalidArgumentError(
        "no --tls-cert-file/--tls-key-file: give them (and --tls-client-ca-file for mutual "
        "TLS), or --insecure-plaintext for local development");
  }
  LOG(WARNING) << "--insecure-plaintext: gRPC without TLS, anyone who reaches " << address
               << " may call it";
  return security;
}

}  // namespace kubedl::common
