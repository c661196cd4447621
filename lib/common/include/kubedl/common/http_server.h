#pragma once
// A small HTTP/1.1 server (Boost.Beast, optional TLS) for health, metrics and webhook endpoints.
//
//   kubedl::common::HttpRoutes routes;
//   routes["/healthz"] = [](const HttpRequest&) { return HttpResponse{.body = "ok"}; };
//   auto server = kubedl::common::StartHttpServer({.port = 8080}, std::move(routes));
//   ...
//   (*server)->Shutdown(absl::Seconds(5));
//
// Routing is by exact path; the query string is ignored for routing and handed to the handler.
// Handlers run on the server's I/O threads, so they must not block for long.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kubedl::common {

struct HttpRequest {
  std::string_view method;        // "GET", "POST", ...
  std::string_view path;          // target without the query string
  std::string_view query;         // text after '?', empty when none
  std::string_view content_type;  // Content-Type header value
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Exact path -> handler. Unknown paths answer 404.
using HttpRoutes = std::map<std::string, HttpHandler, std::less<>>;

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
  // PEM bundle of the CAs that sign the callers' certificates. When set, every caller must
  // present a certificate that verifies against it (mutual TLS) or its handshake fails; re-read
  // with the other files, so a renewed CA is picked up without a restart. Empty: any caller may
  // connect (server-only TLS).
  std::string client_ca_file;
  // How often the files' modification times are checked; a change loads them into a new TLS
  // context used by new connections (existing connections keep theirs). A pair that fails to
  // load (e.g. the key written after the certificate) keeps the old one and is retried.
  std::chrono::milliseconds reload_check_interval{1000};
};

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 0;  // 0 picks a free port (see HttpServer::port())
  int threads = 1;
  std::optional<TlsFiles> tls;  // TLS 1.2+ when set
  // Larger request bodies are answered 413 and the connection closed. Every malformed request
  // is answered and the connection closed: 400 (the parser's reason), 411 (a POST, PUT or PATCH
  // without Content-Length or chunked encoding), 414 and 431 (the limits below).
  std::size_t body_limit = 3 * 1024 * 1024;
  // Longest request target (path and query): longer ones are answered 414.
  std::size_t target_limit = 4 * 1024;
  // Longest request header, request line included: longer ones are answered 431 (414 when the
  // request line alone does not fit).
  std::size_t header_limit = 8 * 1024;
  // Open connections at most: one more is answered 503 and closed at once (a TLS one is closed
  // before its handshake). Each costs its buffers and, with TLS, its session state.
  std::size_t max_connections = 1024;
  // Time a keep-alive connection may wait for the next request's header.
  std::chrono::milliseconds idle_timeout{90'000};
  // Time for the TLS handshake, for a request body once its header arrived, and for a response
  // write. A slow client only ever holds a socket, never a thread, and only for this long.
  std::chrono::milliseconds read_timeout{10'000};
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // The bound port (the real one when options.port was 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, lets requests in flight finish and be answered (with Connection: close),
  // closes idle connections, and after `grace` drops whatever remains. Idempotent.
  virtual void Shutdown(absl::Duration grace) = 0;
  // Blocks until Shutdown() has finished.
  virtual void Wait() = 0;
};

// Binds, loads the TLS files if any, and starts serving. Errors: InvalidArgument for a bad
// address or unreadable TLS files, Unavailable when the port cannot be bound.
absl::StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(HttpServerOptions options,
                                                            HttpRoutes routes);

}  // namespace kubedl::common
