#pragma once
// The check every TLS flag's file gets before a service starts: gRPC's file watcher only logs a
// file it cannot read and then fails every handshake, so a typo in a mounted path would look like
// a network fault. Checking first turns it into a start-up error that names the file.
#include <string>

#include "absl/status/status.h"

namespace kubedl::common {

// OK when `path` can be read and holds at least one PEM block ("-----BEGIN "); otherwise
// FailedPrecondition naming `what` (e.g. "--tls-client-ca-file") and the path.
absl::Status CheckPemFile(const std::string& path, const std::string& what);

}  // namespace kubedl::common
