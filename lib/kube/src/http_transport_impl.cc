// HttpTransport on Boost.Beast + OpenSSL.
//
// Every connection owns a one-thread io_context; a call runs the connection's async operations
// on the calling thread with a deadline (tcp_stream::expires_after), which gives blocking calls
// with timeouts. Concurrency comes from the pool: up to max_connections round trips run at
// once, each on its own keep-alive connection.

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "kubedl/common/status_macros.h"
#include "kubedl/kube/http_transport.h"
#include "kubedl/kube/token_source.h"

namespace kubedl::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

struct ServerAddress {
  bool tls = true;
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
};

absl::StatusOr<ServerAddress> ParseServer(const std::string& server) {
  ServerAddress a;
  absl::string_view rest = server;
  if (absl::ConsumePrefix(&rest, "https://")) {
    a.tls = true;
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    a.tls = false;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("server must be http(s)://: ", server));
  }
  if (auto slash = rest.find('/'); slash != absl::string_view::npos) rest = rest.substr(0, slash);
  a.host_header = std::string(rest);
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("bad IPv6 server");
    a.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    a.port = absl::ConsumePrefix(&rest, ":") ? std::string(rest) : "";
  } else if (auto colon = rest.rfind(':'); colon != absl::string_view::npos) {
    a.host = std::string(rest.substr(0, colon));
    a.port = std::string(rest.substr(colon + 1));
  } else {
    a.host = std::string(rest);
  }
  if (a.port.empty()) a.port = a.tls ? "443" : "80";
  return a;
}

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

absl::Status TransportError(const beast::error_code& ec, absl::string_view what) {
  if (ec == beast::error::timeout)
    return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
  if (ec == asio::error::operation_aborted)
    return absl::CancelledError(absl::StrCat(what, ": cancelled"));
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

// One connection to the server. Not thread-safe: used by one caller at a time.
class Connection {
 public:
  explicit Connection(ssl::context* tls) {
    if (tls) {
      tls_.emplace(ioc_, *tls);
    } else {
      plain_.emplace(ioc_);
    }
  }
  ~Connection() {
    beast::error_code ec;
    Tcp().socket().close(ec);
  }

  // Runs `start(handler)` to completion on this thread, bounded by `timeout`.
  template <typename Start>
  beast::error_code Run(absl::Duration timeout, Start start) {
    beast::error_code result = asio::error::would_block;
    if (timeout == absl::InfiniteDuration()) {
      Tcp().expires_never();
    } else {
      Tcp().expires_after(ToChrono(timeout));
    }
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  absl::Status Connect(const ServerAddress& addr, const std::string& tls_server_name,
                       absl::Duration timeout) {
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    auto endpoints = resolver.resolve(addr.host, addr.port, ec);
    if (ec) return TransportError(ec, absl::StrCat("resolve ", addr.host));
    ec = Run(timeout, [&](auto handler) { Tcp().async_connect(endpoints, handler); });
    if (ec) return TransportError(ec, absl::StrCat("connect ", addr.host_header));
    Tcp().socket().set_option(tcp::no_delay(true), ec);
    if (!tls_) return absl::OkStatus();

    SSL* native = tls_->native_handle();
    const std::string& verify_name = tls_server_name.empty() ? addr.host : tls_server_name;
    if (IsIpAddress(verify_name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), verify_name.c_str());
    } else {
      SSL_set_tlsext_host_name(native, verify_name.c_str());
      SSL_set1_host(native, verify_name.c_str());
    }
    ec = Run(timeout,
             [&](auto handler) { tls_->async_handshake(ssl::stream_base::client, handler); });
    if (ec) return TransportError(ec, absl::StrCat("TLS handshake with ", addr.host_header));
    return absl::OkStatus();
  }

  template <typename Message>
  beast::error_code Write(Message& msg, absl::Duration timeout) {
    return Run(timeout, [&](auto handler) {
      if (tls_) {
        http::async_write(*tls_, msg, handler);
      } else {
        http::async_write(*plain_, msg, handler);
      }
    });
  }

  template <typename Parser>
  beast::error_code Read(Parser& parser, absl::Duration timeout) {
    return Run(timeout, [&](auto handler) {
      if (tls_) {
        http::async_read(*tls_, buffer_, parser, handler);
      } else {
        http::async_read(*plain_, buffer_, parser, handler);
      }
    });
  }

  // Reads until the parser made some progress (a chunk of body, or only framing).
  template <typename Parser>
  beast::error_code ReadSome(Parser& parser, absl::Duration timeout) {
    return Run(timeout, [&](auto handler) {
      if (tls_) {
        http::async_read_some(*tls_, buffer_, parser, handler);
      } else {
        http::async_read_some(*plain_, buffer_, parser, handler);
      }
    });
  }

  template <typename Parser>
  beast::error_code ReadHeader(Parser& parser, absl::Duration timeout) {
    return Run(timeout, [&](auto handler) {
      if (tls_) {
        http::async_read_header(*tls_, buffer_, parser, handler);
      } else {
        http::async_read_header(*plain_, buffer_, parser, handler);
      }
    });
  }

  // Cancels pending operations; safe from another thread (runs on the connection's context).
  void PostCancel() {
    asio::post(ioc_, [this] { Tcp().cancel(); });
  }

  bool reused = false;

 private:
  beast::tcp_stream& Tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  asio::io_context ioc_{1};
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
};

class StreamImpl final : public ResponseStream {
 public:
  StreamImpl(std::unique_ptr<Connection> conn,
             std::unique_ptr<http::response_parser<http::buffer_body>> parser)
      : conn_(std::move(conn)), parser_(std::move(parser)) {}

  int status() const override { return static_cast<int>(parser_->get().result_int()); }

  absl::StatusOr<bool> ReadSome(std::string* out, absl::Duration idle_timeout) override {
    if (cancelled_.load()) return absl::CancelledError("stream cancelled");
    if (ended_ || parser_->is_done()) return false;
    char buf[16384];
    parser_->get().body().data = buf;
    parser_->get().body().size = sizeof(buf);
    beast::error_code ec = conn_->ReadSome(*parser_, idle_timeout);
    size_t n = sizeof(buf) - parser_->get().body().size;
    out->append(buf, n);
    if (cancelled_.load()) return absl::CancelledError("stream cancelled");
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::end_of_stream) {
      ended_ = true;
      return n > 0;
    }
    if (ec) return TransportError(ec, "reading the response stream");
    return true;
  }

  void Cancel() override {
    cancelled_.store(true);
    conn_->PostCancel();
  }

 private:
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  std::atomic<bool> cancelled_{false};
  bool ended_ = false;
};

class HttpTransportImpl final : public HttpTransport {
 public:
  HttpTransportImpl(const Config& config, ServerAddress addr, std::unique_ptr<ssl::context> tls)
      : config_(config),
        addr_(std::move(addr)),
        tls_(std::move(tls)),
        tokens_(config.token, config.token_file, config.token_reload_period) {}

  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) override {
    absl::Duration timeout =
        request.timeout > absl::ZeroDuration() ? request.timeout : config_.request_timeout;
    auto msg = BuildRequest(request);
    // A pooled connection the server has closed fails on first use; retry those once on a new
    // connection (the server never saw the request).
    for (int attempt = 0;; ++attempt) {
      ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Acquire(attempt > 0));
      bool reused = conn->reused;
      beast::error_code ec = conn->Write(msg, timeout);
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      if (!ec) ec = conn->Read(parser, timeout);
      if (ec) {
        Release(nullptr);
        bool stale = reused && !parser.got_some() &&
                     (ec == http::error::end_of_stream || ec == asio::error::eof ||
                      ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
                      ec == ssl::error::stream_truncated);
        if (stale && attempt == 0) continue;
        return TransportError(ec, absl::StrCat(request.method, " ", request.target));
      }
      HttpResponse response;
      response.status = static_cast<int>(parser.get().result_int());
      if (auto it = parser.get().find(http::field::retry_after); it != parser.get().end())
        response.retry_after = std::string(it->value());
      bool keep = parser.get().keep_alive();
      response.body = std::move(parser.get().body());
      conn->reused = true;
      Release(keep ? std::move(conn) : nullptr);
      return response;
    }
  }

  absl::StatusOr<std::unique_ptr<ResponseStream>> OpenStream(const HttpRequest& request) override {
    absl::Duration timeout =
        request.timeout > absl::ZeroDuration() ? request.timeout : config_.request_timeout;
    auto msg = BuildRequest(request);
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Dial());
    beast::error_code ec = conn->Write(msg, timeout);
    auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (!ec) ec = conn->ReadHeader(*parser, timeout);
    if (ec) return TransportError(ec, absl::StrCat(request.method, " ", request.target));
    return std::make_unique<StreamImpl>(std::move(conn), std::move(parser));
  }

 private:
  http::request<http::string_body> BuildRequest(const HttpRequest& request) {
    http::verb verb = http::string_to_verb(request.method);
    http::request<http::string_body> msg{verb, request.target, 11};
    msg.set(http::field::host, addr_.host_header);
    msg.set(http::field::user_agent, config_.user_agent);
    msg.set(http::field::accept, request.accept.empty() ? "application/json" : request.accept);
    std::string token = tokens_.Token();
    if (!token.empty()) msg.set(http::field::authorization, absl::StrCat("Bearer ", token));
    if (!request.content_type.empty()) msg.set(http::field::content_type, request.content_type);
    msg.keep_alive(true);
    msg.body() = request.body;
    msg.prepare_payload();
    return msg;
  }

  absl::StatusOr<std::unique_ptr<Connection>> Dial() {
    auto conn = std::make_unique<Connection>(tls_.get());
    RETURN_IF_ERROR(conn->Connect(addr_, config_.tls_server_name, config_.connect_timeout));
    return conn;
  }

  // Takes an idle connection, or dials a new one while under max_connections, else waits.
  absl::StatusOr<std::unique_ptr<Connection>> Acquire(bool fresh) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < config_.max_connections; });
      if (!idle_.empty() && !fresh) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
      if (!idle_.empty()) {  // fresh requested: drop an idle one to make room
        idle_.pop_back();
        --open_;
      }
      ++open_;
    }
    auto conn = Dial();
    if (!conn.ok()) Release(nullptr);
    return conn;
  }

  // Returns a connection to the pool, or (nullptr) gives up its slot.
  void Release(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard lock(mu_);
      if (conn) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    cv_.notify_one();
  }

  const Config config_;
  const ServerAddress addr_;
  std::unique_ptr<ssl::context> tls_;
  TokenSource tokens_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // idle + in use
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpTransport>> NewHttpTransport(const Config& config) {
  ASSIGN_OR_RETURN(ServerAddress addr, ParseServer(config.server));
  std::unique_ptr<ssl::context> tls;
  if (addr.tls) {
    try {
      tls = std::make_unique<ssl::context>(ssl::context::tls_client);
      tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1);
      if (config.insecure_skip_tls_verify) {
        tls->set_verify_mode(ssl::verify_none);
      } else {
        tls->set_verify_mode(ssl::verify_peer);
        if (!config.ca_pem.empty()) {
          tls->add_certificate_authority(asio::buffer(config.ca_pem));
        } else {
          tls->set_default_verify_paths();
        }
      }
      if (!config.client_cert_pem.empty()) {
        tls->use_certificate_chain(asio::buffer(config.client_cert_pem));
        tls->use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem);
      }
    } catch (const boost::system::system_error& e) {
      return absl::InvalidArgumentError(absl::StrCat("TLS configuration: ", e.what()));
    }
  }
  if (config.max_connections < 1) return absl::InvalidArgumentError("max_connections < 1");
  return std::make_unique<HttpTransportImpl>(config, std::move(addr), std::move(tls));
}

}  // namespace kubedl::kube
