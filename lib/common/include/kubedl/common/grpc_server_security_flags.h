#pragma once
// The flags that choose how a service's gRPC port is secured, shared by every gRPC service so
// each spells and checks them the same way:
//   --tls-cert-file, --tls-key-file   the port's certificate and key (TLS), re-read every minute
//   --tls-client-ca-file              callers must present a certificate it signed (mutual TLS)
//   --insecure-plaintext              plaintext, only when asked for by name
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "kubedl/common/grpc_server_start.h"

namespace kubedl::common {

struct GrpcServerSecurity {
  std::optional<TlsFiles> tls;  // nullopt: plaintext (insecure_plaintext is then true)
  bool insecure_plaintext = false;

  // "plaintext", "TLS" or "mutual TLS", for the start-up log line.
  const char* Name() const;
};

// The security the flags ask for. InvalidArgument when they do not fit together: a certificate
// without its key (or the reverse), a client CA without them, or neither TLS files nor
// --insecure-plaintext. Plaintext is logged as a warning naming `address`, the port anyone may
// then call.
absl::StatusOr<GrpcServerSecurity> GrpcServerSecurityFromFlags(const std::string& address);

}  // namespace kubedl::common
