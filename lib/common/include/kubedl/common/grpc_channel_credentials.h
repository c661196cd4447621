#pragma once
// Credentials of a channel to one of our own gRPC services (the reconciler's channels to the gang
// scheduler and the metrics service): mutual TLS, or plaintext only when asked for by name.
//
//   absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
//       kubedl::common::GrpcChannelCredentials(
//           {.ca_file = "/tls/ca.crt", .cert_file = "/tls/tls.crt", .key_file = "/tls/tls.key"});
//   auto channel = grpc::CreateCustomChannel("kubedl-gang-scheduler.ns.svc:9090", *credentials,
//                                            arguments);
//
// The server's chain is verified against ca_file and its certificate must name the host of the
// channel's target in a subjectAltName (or GRPC_SSL_TARGET_NAME_OVERRIDE_ARG when the channel
// dials an address that is not that name, as tests on 127.0.0.1 do). All three files are
// re-read every reload_check_interval: a renewed client certificate or CA is used by the next
// handshake (a reconnection), no restart needed.
#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace kubedl::common {

struct GrpcChannelTls {
  std::string ca_file;    // PEM bundle of the CAs that sign the server's certificate
  std::string cert_file;  // PEM client certificate chain presented to the server; may be empty
  std::string key_file;   // its private key; set exactly when cert_file is
  std::chrono::seconds reload_check_interval{60};  // at least one second
};

// TLS credentials when tls.ca_file is set; plaintext when it is empty and insecure_plaintext is
// true. Errors: FailedPrecondition for neither (plaintext must be chosen, never defaulted to) or
// a file that cannot be read or holds no PEM; InvalidArgument for a certificate without its key
// (or the other way round), or a client certificate without a CA.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> GrpcChannelCredentials(
    const GrpcChannelTls& tls, bool insecure_plaintext = false);

}  // namespace kubedl::common
