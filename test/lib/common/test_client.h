#pragma once
// A blocking HTTP(S) client for tests of the HTTP server: one connection, many requests.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>

#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"

namespace kubedl::common::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct ClientTls {
  std::string ca_file;
  int max_version = 0;  // e.g. TLS1_1_VERSION to check refusal; 0 = library default
  std::string cert_file;  // client certificate and key for mutual TLS; empty: none presented
  std::string key_file;
};

class TestClient {
 public:
  TestClient(uint16_t port, std::optional<ClientTls> tls = std::nullopt)
      : ssl_ctx_(net::ssl::context::tls_client) {
    net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    if (tls) {
      ssl_ctx_.load_verify_file(tls->ca_file);
      ssl_ctx_.set_verify_mode(net::ssl::verify_peer);
      if (!tls->cert_file.empty()) {
        ssl_ctx_.use_certificate_chain_file(tls->cert_file);
        ssl_ctx_.use_private_key_file(tls->key_file, net::ssl::context::pem);
      }
      if (tls->max_version != 0) {
        SSL_CTX_set_min_proto_version(ssl_ctx_.native_handle(), TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ssl_ctx_.native_handle(), tls->max_version);
        SSL_CTX_set_security_level(ssl_ctx_.native_handle(), 0);
      }
      tls_stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, ssl_ctx_);
      beast::get_lowest_layer(*tls_stream_).connect(endpoint);
      beast::get_lowest_layer(*tls_stream_).expires_after(std::chrono::seconds(10));
      tls_stream_->handshake(net::ssl::stream_base::client, handshake_error_);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(ioc_);
      plain_->connect(endpoint);
    }
  }

  beast::error_code handshake_error() const { return handshake_error_; }

  // The serial number of the certificate the server presented, as hex.
  std::string PeerSerial() {
    X509* cert = SSL_get_peer_certificate(tls_stream_->native_handle());
    if (cert == nullptr) return "";
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
    char* hex = BN_bn2hex(bn);
    std::string out(hex);
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(cert);
    return out;
  }

  // Sends one request; returns the response or the error that ended the exchange.
  beast::error_code Send(http::request<http::string_body> req,
                         http::response<http::string_body>* res) {
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
    beast::error_code ec;
    if (tls_stream_) {
      beast::get_lowest_layer(*tls_stream_).expires_after(std::chrono::seconds(10));
      http::write(*tls_stream_, req, ec);
      if (!ec) http::read(*tls_stream_, buffer_, *res, ec);
    } else {
      plain_->expires_after(std::chrono::seconds(10));
      http::write(*plain_, req, ec);
      if (!ec) http::read(*plain_, buffer_, *res, ec);
    }
    return ec;
  }

  http::response<http::string_body> Get(const std::string& target) {
    http::response<http::string_body> res;
    Send(http::request<http::string_body>(http::verb::get, target, 11), &res);
    return res;
  }

  // Writes raw bytes (for slow or partial requests).
  beast::error_code WriteRaw(const std::string& bytes) {
    beast::error_code ec;
    if (tls_stream_) {
      net::write(*tls_stream_, net::buffer(bytes), ec);
    } else {
      net::write(*plain_, net::buffer(bytes), ec);
    }
    return ec;
  }

  // Reads until the server closes or 10 s pass; returns the error that ended the read.
  beast::error_code ReadUntilClosed(std::string* got = nullptr) {
    char buf[4096];
    beast::error_code ec;
    for (;;) {
      std::size_t n = 0;
      if (tls_stream_) {
        beast::get_lowest_layer(*tls_stream_).expires_after(std::chrono::seconds(10));
        n = tls_stream_->read_some(net::buffer(buf), ec);
      } else {
        plain_->expires_after(std::chrono::seconds(10));
        n = plain_->read_some(net::buffer(buf), ec);
      }
      if (got) got->append(buf, n);
      if (ec) return ec;
    }
  }

 private:
  net::io_context ioc_;
  net::ssl::context ssl_ctx_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  std::unique_ptr<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
  beast::error_code handshake_error_;
};

}  // namespace kubedl::common::testing
