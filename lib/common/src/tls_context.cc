#include "kubedl/common/tls_context.h"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace kubedl::common {

namespace ssl = boost::asio::ssl;

absl::StatusOr<std::shared_ptr<ssl::context>> LoadServerTlsContext(
    const std::string& cert_file, const std::string& key_file, const std::string& client_ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // Forward-secret AEAD suites only for TLS 1.2; TLS 1.3 suites are OpenSSL's defaults.
  SSL_CTX_set_cipher_list(ctx->native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load certificate ", cert_file, ": ", ec.message()));
  }
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load private key ", key_file, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key ", key_file, " does not match certificate ", cert_file));
  }
  if (!client_ca_file.empty()) {
    ctx->load_verify_file(client_ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load client CA ", client_ca_file, ": ", ec.message()));
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str());
    if (names == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("client CA ", client_ca_file, " holds no certificate"));
    }
    // Named in the certificate request, so a client holding several certificates picks ours.
    SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // Sessions may only be resumed by the context that verified them; OpenSSL refuses resumption
    // with verification on unless the context names itself.
    static constexpr unsigned char kSessionContext[] = "kubedl-mutual-tls";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext,
                                   sizeof(kSessionContext) - 1);
  }
  return ctx;
}

ReloadingTlsContext::ReloadingTlsContext(std::string cert_file, std::string key_file,
                                         std::string client_ca_file)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      client_ca_file_(std::move(client_ca_file)) {}

absl::StatusOr<std::unique_ptr<ReloadingTlsContext>> ReloadingTlsContext::Create(
    std::string cert_file, std::string key_file, std::string client_ca_file) {
  std::unique_ptr<ReloadingTlsContext> self(new ReloadingTlsContext(
      std::move(cert_file), std::move(key_file), std::move(client_ca_file)));
  std::string fingerprint = self->FilesFingerprint();
  auto ctx = LoadServerTlsContext(self->cert_file_, self->key_file_, self->client_ca_file_);
  if (!ctx.ok()) return ctx.status();
  self->current_ = *std::move(ctx);
  self->loaded_fingerprint_ = std::move(fingerprint);
  return self;
}

std::string ReloadingTlsContext::FilesFingerprint() const {
  std::string out;
  for (const std::string* file : {&cert_file_, &key_file_, &client_ca_file_}) {
    if (file->empty()) continue;
    struct stat st {};
    if (::stat(file->c_str(), &st) != 0) {
      absl::StrAppend(&out, "missing;");
      continue;
    }
    absl::StrAppend(&out, st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                    st.st_mtim.tv_nsec, ";");
  }
  return out;
}

std::shared_ptr<ssl::context> ReloadingTlsContext::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

bool ReloadingTlsContext::Refresh() {
  std::string fingerprint = FilesFingerprint();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fingerprint == loaded_fingerprint_ || fingerprint == failed_fingerprint_) return false;
  }
  auto ctx = LoadServerTlsContext(cert_file_, key_file_, client_ca_file_);
  std::lock_guard<std::mutex> lock(mu_);
  if (!ctx.ok()) {
    // Often a rotation caught half way (certificate written, key not yet): retried once the
    // files change again.
    LOG(WARNING) << "TLS files changed but do not load, keeping the previous ones: "
                 << ctx.status();
    failed_fingerprint_ = fingerprint;
    return false;
  }
  current_ = *std::move(ctx);
  loaded_fingerprint_ = fingerprint;
  failed_fingerprint_.clear();
  ++reload_count_;
  LOG(INFO) << "Reloaded TLS certificate " << cert_file_;
  return true;
}

int ReloadingTlsContext::reload_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reload_count_;
}

}  // namespace kubedl::common
