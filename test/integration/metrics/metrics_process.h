#pragma once

// The real kubedl-metrics process on loopback ports, and a plain HTTP GET to scrape it.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
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

namespace kubedl::metrics::testing {

// A port free at the time of asking (the kernel's choice for port 0).
inline int FreeLoopbackPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// GET http://127.0.0.1:<port><target>; nullopt when nothing answers.
struct HttpResponse {
  int status;
  std::string body;
};
inline std::optional<HttpResponse> HttpGet(int port, const std::string& target) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<uint16_t>(port)));
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    beast::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    return HttpResponse{static_cast<int>(response.result_int()), response.body()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

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

class MetricsProcess {
 public:
  MetricsProcess(std::string binary, int grpc_port, int http_port)
      : binary_(std::move(binary)), grpc_port_(grpc_port), http_port_(http_port) {}
  ~MetricsProcess() { Kill(); }

  // Starts the process and waits until /readyz answers 200.
  bool Start(absl::Duration timeout = absl::Seconds(20)) {
    std::vector<std::string> args = {binary_,
                                     "--listen_address=127.0.0.1",
                                     absl::StrCat("--grpc_port=", grpc_port_),
                                     absl::StrCat("--http_port=", http_port_),
                                     "--retention=1h",
                                     "--housekeeping_interval=1s",
                                     "--logtostderr"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary_.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      return false;
    }
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto ready = HttpGet(http_port_, "/readyz");
      if (ready && ready->status == 200) return true;
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

  std::map<std::string, double> Scrape() const {
    auto response = HttpGet(http_port_, "/metrics");
    if (!response || response->status != 200) return {};
    return ParseExposition(response->body);
  }

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }

 private:
  std::string binary_;
  int grpc_port_;
  int http_port_;
  pid_t pid_ = -1;
};

}  // namespace kubedl::metrics::testing
