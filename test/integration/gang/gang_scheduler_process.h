#pragma once

// The real kubedl-gang-scheduler process on loopback ports, for integration tests: start, wait
// until /readyz answers, kill -9, start again on the same ports.

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kubedl/testing/service_process.h"

namespace kubedl::gang::testing {

using kubedl::testing::FreeLoopbackPort;
using kubedl::testing::HttpAnswer;
using kubedl::testing::HttpGet;

class GangSchedulerProcess : public kubedl::testing::ServiceProcess {
 public:
  GangSchedulerProcess(std::string binary, std::string backend,
                       std::vector<std::string> extra_flags = {})
      : binary_(std::move(binary)),
        backend_(std::move(backend)),
        extra_flags_(std::move(extra_flags)),
        grpc_port_(FreeLoopbackPort()),
        health_port_(FreeLoopbackPort()) {}

  // Starts the process and waits until /readyz answers 200.
  bool Start(absl::Duration timeout = absl::Seconds(20)) {
    std::vector<std::string> args = {binary_,
                                     "--backend=" + backend_,
                                     "--listen-address=127.0.0.1",
                                     absl::StrCat("--grpc-port=", grpc_port_),
                                     absl::StrCat("--health-port=", health_port_),
                                     "--minloglevel=1"};
    if (const char* kubeconfig = std::getenv("KUBECONFIG")) {
      args.push_back(std::string("--kubeconfig=") + kubeconfig);
    }
    // Plaintext must be asked for; a test about TLS gives --tls-cert-file instead.
    bool tls = false;
    for (const std::string& flag : extra_flags_) tls |= flag.starts_with("--tls-cert-file=");
    if (!tls) args.push_back("--insecure-plaintext");
    args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
    return Spawn(std::move(args)) && WaitUntilReady(health_port_, timeout);
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", grpc_port_); }
  int health_port() const { return health_port_; }

 private:
  std::string binary_;
  std::string backend_;
  std::vector<std::string> extra_flags_;
  int grpc_port_;
  int health_port_;
};

}  // namespace kubedl::gang::testing
