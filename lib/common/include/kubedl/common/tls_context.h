#pragma once
// A server TLS context (TLS 1.2+) built from PEM files and rebuilt when the files change.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"

namespace kubedl::common {

// Builds a TLS server context from a certificate chain and key file. With a client CA file,
// the context asks every client for a certificate and fails the handshake unless one is given
// that verifies against it.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> LoadServerTlsContext(
    const std::string& cert_file, const std::string& key_file,
    const std::string& client_ca_file = "");

// Holds the current context; Refresh() reloads it when any file's mtime, size or inode
// changed since the last successful load. Thread-safe.
class ReloadingTlsContext {
 public:
  static absl::StatusOr<std::unique_ptr<ReloadingTlsContext>> Create(
      std::string cert_file, std::string key_file, std::string client_ca_file = "");
  // The context new connections should use.
  std::shared_ptr<boost::asio::ssl::context> Current() const;
  // Returns true when a new context was loaded. A failed load keeps the old context.
  bool Refresh();
  int reload_count() const;

 private:
  ReloadingTlsContext(std::string cert_file, std::string key_file, std::string client_ca_file);
  std::string FilesFingerprint() const;

  const std::string cert_file_;
  const std::string key_file_;
  const std::string client_ca_file_;  // empty: no client certificates asked for
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;
  std::string loaded_fingerprint_;
  std::string failed_fingerprint_;
  int reload_count_ = 0;
};

}  // namespace kubedl::common
