#include "kubedl/common/http_server.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "glog/logging.h"
#include "kubedl/common/tls_context.h"

namespace kubedl::common {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class ServerImpl;

// What the server needs to reach every live connection during a drain.
class Connection {
 public:
  virtual ~Connection() = default;
  // Called from any thread: close when idle, else after the response in flight.
  virtual void Drain() = 0;
};

// Shared by the server and its connections; outlives both through shared_ptr.
struct ServerState {
  HttpServerOptions options;
  HttpRoutes routes;
  std::atomic<bool> draining{false};
  std::mutex mu;
  std::condition_variable all_closed;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;

  HttpResponse Dispatch(const Request& req) const {
    std::string_view target = req.target();
    std::string_view path = target, query;
    if (auto q = target.find('?'); q != std::string_view::npos) {
      path = target.substr(0, q);
      query = target.substr(q + 1);
    }
    auto route = routes.find(path);
    if (route == routes.end()) {
      return HttpResponse{.status = 404, .body = "no handler for " + std::string(path) + "\n"};
    }
    HttpRequest request{.method = req.method_string(),
                        .path = path,
                        .query = query,
                        .content_type = req[http::field::content_type],
                        .body = req.body()};
    try {
      return route->second(request);
    } catch (const std::exception& e) {
      LOG(ERROR) << "handler for " << path << " threw: " << e.what();
      return HttpResponse{.status = 500, .body = "internal error\n"};
    }
  }
};

// One connection's request loop. Stream is beast::tcp_stream or beast::ssl_stream of one. All
// of a connection's handlers run on its own strand, so it needs no lock.
template <class Stream>
class ConnectionImpl : public Connection,
                       public std::enable_shared_from_this<ConnectionImpl<Stream>> {
 public:
  template <class... StreamArgs>
  ConnectionImpl(std::shared_ptr<ServerState> state, std::shared_ptr<void> keep_alive,
                 StreamArgs&&... stream_args)
      : state_(std::move(state)),
        keep_alive_(std::move(keep_alive)),
        stream_(std::forward<StreamArgs>(stream_args)...) {}

  ~ConnectionImpl() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->connections.erase(id_);
    if (state_->connections.empty()) state_->all_closed.notify_all();
  }

  void Start(uint64_t id) {
    id_ = id;
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->Lowest().expires_after(self->state_->options.read_timeout);
        self->stream_.async_handshake(
            net::ssl::stream_base::server,
            [self](beast::error_code ec) {
              if (ec) {
                // With client certificates required this is how a refused caller shows; one line
                // per 100, so a port scan cannot flood the log.
                LOG_EVERY_N(WARNING, 100) << "TLS handshake failed (" << google::COUNTER
                                          << " so far): " << ec.message();
                return self->CloseNow();
              }
              self->ReadHeader();
            });
      } else {
        self->ReadHeader();
      }
    });
  }

  void Drain() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->drain_ = true;
      if (self->idle_) self->CloseNow();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void ReadHeader() {
    if (drain_) return Close();
    parser_.emplace();
    parser_->body_limit(state_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
    idle_ = buffer_.size() == 0;
    Lowest().expires_after(state_->options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    idle_ = false;
    if (ec == http::error::header_limit) {
      return RequestLineTooLong() ? Reject(414, "request target too long\n")
                                  : Reject(431, "request header fields too large\n");
    }
    if (ec) return OnReadError(ec);
    Lowest().expires_after(state_->options.read_timeout);
    auto& header = parser_->get();
    if (header.target().size() > state_->options.target_limit) {
      return Reject(414, "request target too long\n");
    }
    // A request that carries a body must say how long it is (RFC 9110 section 8.6).
    const http::verb verb = header.method();
    if ((verb == http::verb::post || verb == http::verb::put || verb == http::verb::patch) &&
        header.find(http::field::content_length) == header.end() && !parser_->chunked()) {
      return Reject(411, "Content-Length required\n");
    }
    if (parser_->is_done()) return Handle();
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     header.version());
      http::async_write(stream_, *cont,
                        [self = this->shared_from_this(), cont](beast::error_code ec, std::size_t) {
                          if (ec) return self->CloseNow();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Handle();
                     });
  }

  // A request the parser refused gets its status; a peer that went away or stalled does not.
  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) return Reject(413, "request body too large\n");
    const bool malformed = ec.category() == beast::error_code(http::error::bad_target).category() &&
                           ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (malformed) return Reject(400, absl::StrCat("bad request: ", ec.message(), "\n"));
    CloseNow();
  }

  // Whether the header went over the limit before its request line was parsed (the parser
  // sets the target once it has the whole line): then the target is what was too long.
  bool RequestLineTooLong() const {
    const std::string_view target = parser_->get().target();
    return target.empty() || target.size() > state_->options.target_limit;
  }

  void Handle() {
    Request req = parser_->release();
    HttpResponse out = state_->Dispatch(req);
    bool keep_alive = req.keep_alive() && !drain_ && !state_->draining.load();
    Send(out, req.version(), keep_alive, req.method() == http::verb::head);
  }

  // Answers an error and closes: the rest of the request is not read.
  void Reject(int status, std::string body) {
    Send(HttpResponse{.status = status, .body = std::move(body)}, 11, false, false);
  }

  // A HEAD answer has the headers a GET would get (its Content-Length too) and no body.
  void Send(const HttpResponse& out, unsigned version, bool keep_alive, bool head) {
    auto res = std::make_shared<Response>(static_cast<http::status>(out.status), version);
    res->set(http::field::content_type, out.content_type);
    res->body() = out.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    if (head) res->body().clear();
    Lowest().expires_after(state_->options.read_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return self->CloseNow();
                        if (!res->keep_alive()) return self->Close();
                        self->ReadHeader();
                      });
  }

  // Orderly close: TLS close_notify (bounded by a short deadline), then TCP shutdown.
  void Close() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        self->CloseNow();
      });
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().expires_after(std::chrono::seconds(1));
      Linger(0);
    }
  }

  // Reads and drops what the peer still sends (the rest of a refused request) until it closes,
  // for a second or 1 MiB at most: closing with unread data would reset the connection, and the
  // peer could lose the answer it was sent.
  void Linger(std::size_t dropped) {
    if (dropped > 1024 * 1024) return CloseNow();
    Lowest().async_read_some(
        net::buffer(linger_buffer_),
        [self = this->shared_from_this(), dropped](beast::error_code ec, std::size_t n) {
          if (ec) return self->CloseNow();
          self->Linger(dropped + n);
        });
  }

  void CloseNow() {
    idle_ = false;
    beast::error_code ec;
    Lowest().socket().close(ec);
  }

  std::shared_ptr<ServerState> state_;
  std::shared_ptr<void> keep_alive_;  // the TLS context this connection was made with
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 4096> linger_buffer_;
  uint64_t id_ = 0;
  bool idle_ = false;
  bool drain_ = false;
};

class ServerImpl : public HttpServer {
 public:
  ServerImpl(std::shared_ptr<ServerState> state, std::unique_ptr<ReloadingTlsContext> tls)
      : state_(std::move(state)),
        tls_(std::move(tls)),
        ioc_(state_->options.threads),
        acceptor_(net::make_strand(ioc_)),
        reload_timer_(acceptor_.get_executor()) {}

  ~ServerImpl() override {
    Shutdown(absl::ZeroDuration());
    Wait();
  }

  absl::Status Listen() {
    beast::error_code ec;
    auto address = net::ip::make_address(state_->options.address, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad listen address '", state_->options.address, "': ", ec.message()));
    }
    tcp::endpoint endpoint(address, state_->options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", state_->options.address,
                                                 ":", state_->options.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    return absl::OkStatus();
  }

  void Run() {
    Accept();
    if (tls_) ScheduleReloadCheck();
    int threads = std::max(1, state_->options.threads);
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
  }

  uint16_t port() const override { return port_; }

  void Shutdown(absl::Duration grace) override {
    std::call_once(shutdown_once_, [&] {
      state_->draining = true;
      net::post(acceptor_.get_executor(), [this] {
        beast::error_code ec;
        acceptor_.close(ec);
        reload_timer_.cancel();
      });
      std::vector<std::shared_ptr<Connection>> live;
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        for (auto& [id, weak] : state_->connections) {
          if (auto conn = weak.lock()) live.push_back(std::move(conn));
        }
      }
      for (auto& conn : live) conn->Drain();
      live.clear();
      {
        std::unique_lock<std::mutex> lock(state_->mu);
        state_->all_closed.wait_for(lock, absl::ToChronoMilliseconds(grace),
                                    [&] { return state_->connections.empty(); });
      }
      ioc_.stop();
      for (auto& t : threads_) t.join();
      threads_.clear();
      std::lock_guard<std::mutex> lock(done_mu_);
      done_ = true;
      done_cv_.notify_all();
    });
  }

  void Wait() override {
    std::unique_lock<std::mutex> lock(done_mu_);
    done_cv_.wait(lock, [&] { return done_; });
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec && OverConnectionCap()) {
        Refuse(std::move(s));
      } else if (!ec) {
        s.set_option(tcp::no_delay(true), ec);
        StartConnection(std::move(s));
      }
      Accept();
    });
  }

  void StartConnection(tcp::socket socket) {
    std::shared_ptr<Connection> base;
    uint64_t id;
    if (tls_) {
      auto ctx = tls_->Current();
      auto conn = std::make_shared<ConnectionImpl<beast::ssl_stream<beast::tcp_stream>>>(
          state_, ctx, std::move(socket), *ctx);
      id = Register(conn);
      conn->Start(id);
    } else {
      auto conn =
          std::make_shared<ConnectionImpl<beast::tcp_stream>>(state_, nullptr, std::move(socket));
      id = Register(conn);
      conn->Start(id);
    }
  }

  bool OverConnectionCap() {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->connections.size() >= state_->options.max_connections;
  }

  // Over the cap a plain connection is told so (503) and closed; a TLS one is closed before the
  // handshake, whose cost is what the cap bounds. Either way the refusal is logged.
  void Refuse(tcp::socket socket) {
    LOG_EVERY_N(WARNING, 100) << "refused a connection from "
                              << socket.remote_endpoint(ignored_) << ": "
                              << state_->options.max_connections
                              << " connections are open (the limit); " << google::COUNTER
                              << " refused so far";
    if (!tls_) {
      static constexpr std::string_view kAnswer =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
          "Content-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n";
      socket.non_blocking(true, ignored_);
      socket.write_some(net::buffer(kAnswer.data(), kAnswer.size()), ignored_);
      socket.shutdown(tcp::socket::shutdown_send, ignored_);
    }
    socket.close(ignored_);
  }

  uint64_t Register(const std::shared_ptr<Connection>& conn) {
    std::lock_guard<std::mutex> lock(state_->mu);
    uint64_t id = ++state_->next_id;
    state_->connections.emplace(id, conn);
    return id;
  }

  void ScheduleReloadCheck() {
    reload_timer_.expires_after(state_->options.tls->reload_check_interval);
    reload_timer_.async_wait([this](beast::error_code ec) {
      if (ec || state_->draining) return;
      tls_->Refresh();
      ScheduleReloadCheck();
    });
  }

  std::shared_ptr<ServerState> state_;
  std::unique_ptr<ReloadingTlsContext> tls_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer reload_timer_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  beast::error_code ignored_;  // for best-effort calls on the accept strand
  std::once_flag shutdown_once_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(HttpServerOptions options,
                                                            HttpRoutes routes) {
  std::unique_ptr<ReloadingTlsContext> tls;
  if (options.tls) {
    auto loaded = ReloadingTlsContext::Create(options.tls->cert_file, options.tls->key_file,
                                              options.tls->client_ca_file);
    if (!loaded.ok()) return loaded.status();
    tls = *std::move(loaded);
  }
  auto state = std::make_shared<ServerState>();
  state->options = std::move(options);
  state->routes = std::move(routes);
  auto server = std::make_unique<ServerImpl>(std::move(state), std::move(tls));
  if (absl::Status s = server->Listen(); !s.ok()) return s;
  server->Run();
  return server;
}

}  // namespace kubedl::common
