#pragma once

// HTTP/1.1 to the API server: whole request/response round trips over a keep-alive connection
// pool, and streamed responses (watches) on a connection of their own.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kubedl/kube/config.h"

namespace kubedl::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string target;        // path and query, e.g. /api/v1/pods?limit=500
  std::string body;
  std::string content_type;  // of the body
  absl::Duration timeout = absl::ZeroDuration();  // zero: the config's request_timeout
  std::string accept;        // media types the answer may have; empty: application/json
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;   // the Retry-After header, raw
};

// A response body read as it arrives.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual int status() const = 0;
  // Appends the next bytes of the body to *out. Returns false at the end of the body.
  // DeadlineExceeded when nothing arrived within `idle_timeout`, Cancelled after Cancel(),
  // Unavailable when the connection broke.
  virtual absl::StatusOr<bool> ReadSome(std::string* out, absl::Duration idle_timeout) = 0;
  // Makes a blocked or later ReadSome return Cancelled. Safe from any thread.
  virtual void Cancel() = 0;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends the request and reads the whole response. Transport failures are Unavailable
  // (DeadlineExceeded on timeout); any HTTP status is a successful round trip.
  virtual absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) = 0;
  // Sends the request and returns once the response headers are in.
  virtual absl::StatusOr<std::unique_ptr<ResponseStream>> OpenStream(
      const HttpRequest& request) = 0;
};

// HTTPS (or plain HTTP for http:// servers) on Boost.Beast and OpenSSL.
absl::StatusOr<std::unique_ptr<HttpTransport>> NewHttpTransport(const Config& config);

}  // namespace kubedl::kube
