// webhook_review_load: HTTPS load driver for kubedl-webhook's AdmissionReview endpoints, able to
// present a client certificate (mutual TLS), which wrk cannot. bench/mtls/run.sh uses it for the
// webhook's mTLS-versus-TLS figure; docs/webhook.md describes it with the other benchmarks.
//
//   webhook_review_load --url=https://127.0.0.1:PORT/mutate-kubeflow-org-v1-tfjob
//     --body=review.json --ca-file=ca.crt [--cert-file=client.crt --key-file=client.key]
//     [--connections=16] [--duration=10] [--warmup=1] [--rate=0]
//
// --url         https://IP[:PORT]/PATH[?QUERY] (an address, never a name: nothing is looked up);
//               the server's certificate must be valid for IP
//               (its IP SANs) and chain to --ca-file.
// --body        file POSTed as the request body, Content-Type: application/json.
// --connections keep-alive TLS connections, one thread each, one request in flight each.
// --duration    seconds measured, after --warmup seconds whose requests are not counted.
// --rate        0: closed loop, each connection sends its next request when the answer arrives.
//               R > 0: open loop at R requests/s in total, spread evenly over the connections;
//               latency runs from each request's intended send time, so a connection that falls
//               behind counts its requests' waiting (no coordinated omission).
// --ca-file     PEM CA bundle the server is verified against (default: the system's).
// --cert-file, --key-file  optional PEM client certificate and key.
//
// Output, one line on stdout (latencies of the successful requests of the measured window):
//   requests=N errors=N non2xx=N reconnects=N seconds=S rate=R/s p50=Xms p90=Xms p99=Xms
//   p999=Xms max=Xms   [target=R/s unsent=N wake_late_p99=Xms in open loop]
// Requests count by their (intended) send time being in the window; seconds runs from the
// window's start to the last counted answer; reconnects covers the whole run. In open loop,
// requests still unsent 5 s (kDrainGrace) after the window (server far behind) are `unsent`, and
// wake_late_p99 is how late the driver's own threads woke for a request due while they were
// idle: when it nears p99, the machine's scheduler, not the server, makes the tail.
// A success is a 200 whose body contains "allowed"; any other answer is non2xx; a failed
// connect, handshake, write or read is an error (each distinct message goes once to stderr).
// A connection the server closed is opened again (counted in reconnects). Exit status 1 when no
// request succeeded at all (e.g. every handshake refused), 2 on bad flags.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gflags/gflags.h"

DEFINE_string(url, "", "https://HOST[:PORT]/PATH of the webhook endpoint.");
DEFINE_string(body, "", "File holding the AdmissionReview JSON to POST.");
DEFINE_int32(connections, 16, "Keep-alive TLS connections (one thread each).");
DEFINE_double(duration, 10, "Seconds measured.");
DEFINE_double(warmup, 1, "Seconds of load before the measured window; not counted.");
DEFINE_double(rate, 0,
              "0: closed loop. R > 0: open loop at R requests/s in total over all connections.");
DEFINE_string(ca_file, "", "PEM CA bundle to verify the server against; empty: the system's.");
DEFINE_string(cert_file, "", "PEM client certificate presented to the server (optional).");
DEFINE_string(key_file, "", "PEM private key of --cert-file.");

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// After the window ends, connections still waiting for an answer get this long before their
// sockets are shut down (a hung server must not hang the benchmark).
constexpr auto kDrainGrace = std::chrono::seconds(5);
// Pause before reconnecting after a failure, so a refusing server is not hammered.
constexpr auto kRetryPause = std::chrono::milliseconds(50);

struct Target {
  std::string host;
  std::string port;
  std::string target;  // path and query
};

absl::StatusOr<Target> ParseUrl(const std::string& url) {
  const absl::string_view kScheme = "https://";
  if (!absl::StartsWith(url, kScheme)) {
    return absl::InvalidArgumentError("--url must start with https://");
  }
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Target t{.host = authority, .port = "443",
           .target = slash == std::string::npos ? "/" : rest.substr(slash)};
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) return absl::InvalidArgumentError("--url: unclosed '['");
    t.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      t.port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string::npos) {
    t.host = authority.substr(0, colon);
    t.port = authority.substr(colon + 1);
  }
  int port_number = 0;
  if (t.host.empty() || !absl::SimpleAtoi(t.port, &port_number) || port_number <= 0 ||
      port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--url: bad host or port in ", url));
  }
  return t;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::Status ConfigureTls(ssl::context& ctx) {
  boost::system::error_code ec;
  if (FLAGS_ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    ctx.load_verify_file(FLAGS_ca_file, ec);
  }
  if (ec) return absl::InvalidArgumentError(absl::StrCat("CA: ", ec.message()));
  ctx.set_verify_mode(ssl::verify_peer);
  if (FLAGS_cert_file.empty() != FLAGS_key_file.empty()) {
    return absl::InvalidArgumentError("--cert-file and --key-file go together");
  }
  if (!FLAGS_cert_file.empty()) {
    ctx.use_certificate_chain_file(FLAGS_cert_file, ec);
    if (!ec) ctx.use_private_key_file(FLAGS_key_file, ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("client certificate: ", ec.message()));
  }
  return absl::OkStatus();
}

// Distinct error messages, each printed once to stderr when first seen.
class ErrorLog {
 public:
  void Report(const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_.insert(message).second) std::cerr << "webhook_review_load: " << message << "\n";
  }

 private:
  std::mutex mu_;
  std::set<std::string> seen_;
};

// What one connection's thread measured. Only the owning thread writes it until it is joined.
struct ConnectionResult {
  std::vector<int64_t> latencies_ns;  // successes in the window
  // Open loop: how late the thread woke for a request it was idle before (the driver's own
  // share of the latency, from a busy machine's scheduler, not the server's).
  std::vector<int64_t> wake_lateness_ns;
  int64_t errors = 0;
  int64_t non2xx = 0;
  int64_t reconnects = 0;  // whole run, warm-up included
  int64_t unsent = 0;      // open loop: due in the window, still unsent when the drain ended
  int64_t successes_anywhere = 0;  // warm-up included: did this server ever answer?
  Clock::time_point last_counted_answer{};
};

struct Schedule {
  Clock::time_point start;         // warm-up begins
  Clock::time_point window_start;  // measurement begins
  Clock::time_point window_end;    // no request is sent from here on
  // Open loop: this connection's k-th request is due at first_due + k * interval.
  bool open_loop = false;
  Clock::duration first_due{};
  Clock::duration interval{};
};

class Connection {
 public:
  Connection(ssl::context& ctx, const Target& target, const tcp::resolver::results_type& endpoints,
             const std::string& body, ErrorLog& errors)
      : ctx_(ctx), target_(target), endpoints_(endpoints), errors_(errors) {
    request_.method(http::verb::post);
    request_.target(target.target);
    request_.version(11);
    std::string host = absl::StrContains(target.host, ':') ? absl::StrCat("[", target.host, "]")
                                                           : target.host;
    request_.set(http::field::host,
                 target.port == "443" ? host : absl::StrCat(host, ":", target.port));
    request_.set(http::field::content_type, "application/json");
    request_.set(http::field::accept, "application/json");
    request_.keep_alive(true);
    request_.body() = body;
    request_.prepare_payload();
  }

  // Shuts the socket down from another thread, so a read blocked on a hung server returns.
  void Abort() {
    int fd = socket_fd_.load();
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

  void Run(const Schedule& schedule, ConnectionResult& result) {
    for (int64_t k = 0;; ++k) {
      Clock::time_point due = Clock::now();
      bool slept = false;
      if (schedule.open_loop) {
        due = schedule.start + schedule.first_due + k * schedule.interval;
        if (due >= schedule.window_end) break;
        slept = Clock::now() < due;
        std::this_thread::sleep_until(due);
      } else if (due >= schedule.window_end) {
        break;
      }
      const bool counted = due >= schedule.window_start;
      if (slept && counted) {
        result.wake_lateness_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - due).count());
      }
      Outcome outcome = Send();
      Clock::time_point answered = Clock::now();
      if (outcome == Outcome::kSuccess) ++result.successes_anywhere;
      if (!counted) continue;
      switch (outcome) {
        case Outcome::kSuccess:
          result.latencies_ns.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(answered - due).count());
          result.last_counted_answer = std::max(result.last_counted_answer, answered);
          break;
        case Outcome::kNon2xx: ++result.non2xx; break;
        case Outcome::kError: ++result.errors; break;
      }
      if (aborted_) {
        // The drain grace is over: what was still due in the window was never answered.
        while (schedule.open_loop &&
               schedule.start + schedule.first_due + (k + 1) * schedule.interval <
                   schedule.window_end) {
          ++k;
          ++result.unsent;
        }
        break;
      }
    }
    result.reconnects = reconnects_;
    Close();
  }

  void MarkAborted() { aborted_ = true; }

 private:
  enum class Outcome { kSuccess, kNon2xx, kError };

  // One request, (re)connecting first when there is no open connection.
  Outcome Send() {
    if (stream_ && served_ > 0 && ServerClosed()) Close();
    if (!stream_) {
      // Past the drain grace no new connection is opened (Abort could not reach it).
      if (aborted_ || !Connect()) {
        std::this_thread::sleep_for(kRetryPause);
        return Outcome::kError;
      }
    }
    beast::error_code ec;
    http::write(*stream_, request_, ec);
    http::response<http::string_body> response;
    if (!ec) http::read(*stream_, buffer_, response, ec);
    if (ec) {
      errors_.Report(absl::StrCat(served_ == 0 ? "first request on a connection"
                                               : "request on a connection that had answered",
                                  ": ", ec.message()));
      Close();
      if (served_ == 0) std::this_thread::sleep_for(kRetryPause);  // refused at once
      return Outcome::kError;
    }
    ++served_;
    if (!response.keep_alive()) Close();  // the server ends the connection: open a new one
    if (response.result() == http::status::ok &&
        absl::StrContains(response.body(), "\"allowed\"")) {
      return Outcome::kSuccess;
    }
    errors_.Report(absl::StrCat("answer ", response.result_int(), ": ",
                                response.body().substr(0, 200)));
    return Outcome::kNon2xx;
  }

  // Whether the server has closed the idle keep-alive connection (its idle timeout, a restart):
  // nothing else may arrive on it between an answer and the next request. Checked before
  // sending, so that such a close costs a reconnect, not a failed request.
  bool ServerClosed() {
    pollfd idle{.fd = socket_fd_.load(), .events = POLLIN, .revents = 0};
    return ::poll(&idle, 1, 0) > 0;
  }

  bool Connect() {
    stream_ = std::make_unique<beast::ssl_stream<tcp::socket>>(ioc_, ctx_);
    served_ = 0;
    SSL* ssl_handle = stream_->native_handle();
    // The certificate must name the URL's address (main() took only an address).
    boost::system::error_code ec;
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), target_.host.c_str()) != 1) {
      errors_.Report(absl::StrCat("cannot set the expected server name ", target_.host));
      stream_.reset();
      return false;
    }
    net::connect(beast::get_lowest_layer(*stream_), endpoints_, ec);
    if (ec) {
      errors_.Report(absl::StrCat("connect: ", ec.message()));
      stream_.reset();
      return false;
    }
    beast::get_lowest_layer(*stream_).set_option(tcp::no_delay(true));
    socket_fd_ = beast::get_lowest_layer(*stream_).native_handle();
    stream_->handshake(ssl::stream_base::client, ec);
    if (ec) {
      long verify = SSL_get_verify_result(ssl_handle);
      errors_.Report(absl::StrCat("TLS handshake: ", ec.message(),
                                  verify == X509_V_OK
                                      ? ""
                                      : absl::StrCat(" (", X509_verify_cert_error_string(verify),
                                                     ")")));
      Close();
      return false;
    }
    if (lost_answering_connection_) ++reconnects_;
    lost_answering_connection_ = false;
    buffer_.clear();
    return true;
  }

  void Close() {
    if (!stream_) return;
    // Only a connection that had answered counts as lost: a refused one never was usable (with
    // TLS 1.3 the client's handshake completes before the server refuses its certificate).
    if (served_ > 0) lost_answering_connection_ = true;
    socket_fd_ = -1;
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).close(ignored);  // no close_notify: it is a benchmark
    stream_.reset();
  }

  ssl::context& ctx_;
  const Target& target_;
  const tcp::resolver::results_type& endpoints_;
  ErrorLog& errors_;
  net::io_context ioc_;
  std::unique_ptr<beast::ssl_stream<tcp::socket>> stream_;
  std::atomic<int> socket_fd_{-1};
  std::atomic<bool> aborted_{false};
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  int64_t served_ = 0;
  bool lost_answering_connection_ = false;
  int64_t reconnects_ = 0;
};

double PercentileMs(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  size_t index = static_cast<size_t>(fraction * static_cast<double>(sorted.size()));
  return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]) / 1e6;
}

int Main() {
  auto target = ParseUrl(FLAGS_url);
  if (!target.ok()) {
    std::cerr << target.status().message() << "\n";
    return 2;
  }
  auto body = ReadFile(FLAGS_body);
  if (!body.ok()) {
    std::cerr << "--body: " << body.status().message() << "\n";
    return 2;
  }
  if (FLAGS_connections < 1 || FLAGS_duration <= 0 || FLAGS_warmup < 0 || FLAGS_rate < 0) {
    std::cerr << "need --connections >= 1, --duration > 0, --warmup >= 0, --rate >= 0\n";
    return 2;
  }
  ssl::context ctx(ssl::context::tls_client);
  if (absl::Status tls = ConfigureTls(ctx); !tls.ok()) {
    std::cerr << tls.message() << "\n";
    return 2;
  }
  net::io_context resolver_ioc;
  tcp::resolver resolver(resolver_ioc);
  boost::system::error_code ec;
  // Addresses only, never a name: a benchmark must not ask the host's resolver (which may send
  // the name off this machine) where its target is.
  auto endpoints = resolver.resolve(target->host, target->port,
                                    tcp::resolver::numeric_host | tcp::resolver::numeric_service, ec);
  if (ec) {
    std::cerr << "--url: the host must be an IP address (" << target->host << "): " << ec.message()
              << "\n";
    return 2;
  }

  using std::chrono::duration;
  using std::chrono::duration_cast;
  const int n = FLAGS_connections;
  Schedule base;
  base.start = Clock::now() + std::chrono::milliseconds(10);
  base.window_start = base.start + duration_cast<Clock::duration>(duration<double>(FLAGS_warmup));
  base.window_end =
      base.window_start + duration_cast<Clock::duration>(duration<double>(FLAGS_duration));
  base.open_loop = FLAGS_rate > 0;
  if (base.open_loop) {
    // Each connection sends every n/R seconds, the connections offset by 1/R from each other,
    // so the requests of all of them together are evenly spaced at R/s.
    base.interval = duration_cast<Clock::duration>(duration<double>(n / FLAGS_rate));
  }

  ErrorLog errors;
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<ConnectionResult> results(n);
  std::vector<std::thread> threads;
  std::vector<std::atomic<bool>> done(n);
  for (int i = 0; i < n; ++i) {
    connections.push_back(std::make_unique<Connection>(ctx, *target, endpoints, *body, errors));
  }
  for (int i = 0; i < n; ++i) {
    Schedule schedule = base;
    if (schedule.open_loop) {
      schedule.first_due = duration_cast<Clock::duration>(duration<double>(i / FLAGS_rate));
    }
    threads.emplace_back([&, i, schedule] {
      connections[i]->Run(schedule, results[i]);
      done[i] = true;
    });
  }
  const Clock::time_point drain_end = base.window_end + kDrainGrace;
  std::this_thread::sleep_until(base.window_end);
  auto all_done = [&] {
    return std::all_of(done.begin(), done.end(), [](const auto& d) { return d.load(); });
  };
  while (!all_done() && Clock::now() < drain_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; i < n; ++i) {
    if (!done[i]) {
      connections[i]->MarkAborted();
      connections[i]->Abort();
    }
  }
  for (auto& thread : threads) thread.join();

  std::vector<int64_t> latencies, wake_lateness;
  int64_t errors_total = 0, non2xx = 0, reconnects = 0, unsent = 0, successes_anywhere = 0;
  Clock::time_point last_answer = base.window_end;
  for (const auto& r : results) {
    latencies.insert(latencies.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    wake_lateness.insert(wake_lateness.end(), r.wake_lateness_ns.begin(),
                         r.wake_lateness_ns.end());
    errors_total += r.errors;
    non2xx += r.non2xx;
    reconnects += r.reconnects;
    unsent += r.unsent;
    successes_anywhere += r.successes_anywhere;
    last_answer = std::max(last_answer, r.last_counted_answer);
  }
  std::sort(latencies.begin(), latencies.end());
  std::sort(wake_lateness.begin(), wake_lateness.end());
  // Answers that arrive after the window (open loop behind schedule) stretch the time, so the
  // rate is what was really served.
  double seconds = duration<double>(last_answer - base.window_start).count();
  std::string line = absl::StrFormat(
      "requests=%d errors=%d non2xx=%d reconnects=%d seconds=%.3f rate=%.1f/s p50=%.3fms "
      "p90=%.3fms p99=%.3fms p999=%.3fms max=%.3fms",
      latencies.size(), errors_total, non2xx, reconnects, seconds,
      static_cast<double>(latencies.size()) / seconds, PercentileMs(latencies, 0.50),
      PercentileMs(latencies, 0.90), PercentileMs(latencies, 0.99), PercentileMs(latencies, 0.999),
      latencies.empty() ? 0.0 : static_cast<double>(latencies.back()) / 1e6);
  if (base.open_loop) {
    absl::StrAppendFormat(&line, " target=%.1f/s unsent=%d wake_late_p99=%.3fms", FLAGS_rate,
                          unsent, PercentileMs(wake_lateness, 0.99));
  }
  std::cout << line << std::endl;
  if (successes_anywhere == 0) {
    std::cerr << "webhook_review_load: no request succeeded\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "webhook_review_load --url=https://HOST:PORT/PATH --body=FILE [--ca-file=CA] "
      "[--cert-file=CRT --key-file=KEY] [--connections=N] [--duration=S] [--warmup=S] "
      "[--rate=R]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return Main();
}
