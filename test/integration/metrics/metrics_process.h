#pragma once

// The real kubedl-metrics process on loopback ports, and a scrape of its /metrics.

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kubedl/testing/service_process.h"

namespace kubedl::metrics::testing {

using kubedl::testing::FreeLoopbackPort;
using kubedl::testing::HttpAnswer;
using kubedl::testing::HttpGet;

// A scrape renders every series the service keeps: allow for a large page.
inline constexpr absl::Duration kScrapeTimeout = absl::Seconds(5);

// Prometheus text exposition → {"name{label=\"v\",...}": value}.
inline std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> series;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    series[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return series;
}

class MetricsProcess : public kubedl::testing::ServiceProcess {
 public:
  MetricsProcess(std::string binary, int grpc_port, int http_port)
      : binary_(std::move(binary)), grpc_port_(grpc_port), http_port_(http_port) {}

  // Starts the process and waits until /readyz answers 200. `extra_args` come after the
  // defaults, so they override them (gflags keeps the last value).
  bool Start(absl::Duration timeout = absl::Seconds(20), std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {binary_,
                                     "--listen_address=127.0.0.1",
                                     absl::StrCat("--grpc_port=", grpc_port_),
                                     absl::StrCat("--http_port=", http_port_),
                                     "--insecure_plaintext",
                                     "--retention=1h",
                                     "--housekeeping_interval=1s",
                                     "--logtostderr"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return Spawn(std::move(args)) && WaitUntilReady(http_port_, timeout);
  }

  // The process's resident set (VmRSS of /proc/<pid>/status) in bytes; 0 if unreadable.
  int64_t ResidentBytes() const {
    std::ifstream status(absl::StrCat("/proc/", pid(), "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
    }
    return 0;
  }

  // The raw /metrics page (empty unless 200).
  std::string ScrapeText(absl::Duration timeout = kScrapeTimeout) const {
    HttpAnswer response = HttpGet(http_port_, "/metrics", timeout);
    return response.status == 200 ? response.body : std::string();
  }

  std::map<std::string, double> Scrape() const {
    HttpAnswer response = HttpGet(http_port_, "/metrics", kScrapeTimeout);
    if (response.status != 200) return {};
    return ParseExposition(response.body);
  }

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }

 private:
  std::string binary_;
  int grpc_port_;
  int http_port_;
};

}  // namespace kubedl::metrics::testing
