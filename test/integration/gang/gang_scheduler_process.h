#pragma once

// The real kubedl-gang-scheduler process on loopback ports, for integration tests: start, wait
// until /readyz answers, kill -9, start again on the same ports.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

extern char** environ;

namespace kubedl::gang::testing {

inline int FreeLoopbackPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// GET http://127.0.0.1:<port><target>: the status (0 when nothing answers) and the body.
struct HttpAnswer {
  int status = 0;
  std::string body;
};
inline HttpAnswer HttpGet(int port, const std::string& target) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(2));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<uint16_t>(port)));
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return {static_cast<int>(response.result_int()), response.body()};
  } catch (const std::exception&) {
    return {};
  }
}

class GangSchedulerProcess {
 public:
  GangSchedulerProcess(std::string binary, std::string backend,
                       std::vector<std::string> extra_flags = {})
      : binary_(std::move(binary)),
        backend_(std::move(backend)),
        extra_flags_(std::move(extra_flags)),
        grpc_port_(FreeLoopbackPort()),
        health_port_(FreeLoopbackPort()) {}
  ~GangSchedulerProcess() { Kill(); }

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
    args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary_.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      return false;
    }
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (HttpGet(health_port_, "/readyz").status == 200) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // kill -9: no goodbye to the clients.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", grpc_port_); }
  int health_port() const { return health_port_; }

 private:
  std::string binary_;
  std::string backend_;
  std::vector<std::string> extra_flags_;
  int grpc_port_;
  int health_port_;
  pid_t pid_ = -1;
};

}  // namespace kubedl::gang::testing
