#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kubedl/common/fake_clock.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/token_source.h"

namespace kubedl::kube {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat("kubedl-config-test-", getpid(), "-", counter_++);
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

TEST_F(ConfigTest, CurrentContextPicksClusterUserAndNamespace) {
  Write("sub/ca.crt", "CA-PEM");
  Write("sub/client.crt", "CERT-PEM");
  std::string path = Write("sub/config", R"(
apiVersion: v1
kind: Config
current-context: b
clusters:
- name: one
  cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.crt}
- name: two
  cluster: {server: "https://example:443", insecure-skip-tls-verify: true, tls-server-name: api.local}
users:
- name: alice
  user: {client-certificate: client.crt, client-key-data: )" +
                                          absl::Base64Escape("KEY-PEM") + R"(}
- name: bob
  user: {token: secret}
contexts:
- name: a
  context: {cluster: two, user: bob}
- name: b
  context: {cluster: one, user: alice, namespace: team}
)");
  auto config = LoadKubeconfig({path});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://10.0.0.1:6443");
  EXPECT_EQ(config->ca_pem, "CA-PEM");              // relative to the kubeconfig's folder
  EXPECT_EQ(config->client_cert_pem, "CERT-PEM");
  EXPECT_EQ(config->client_key_pem, "KEY-PEM");     // -data is base64
  EXPECT_EQ(config->namespace_name, "team");
  EXPECT_TRUE(config->token.empty());

  auto other = LoadKubeconfig({path}, "a");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->server, "https://example:443");
  EXPECT_TRUE(other->insecure_skip_tls_verify);
  EXPECT_EQ(other->tls_server_name, "api.local");
  EXPECT_EQ(other->token, "secret");
  EXPECT_EQ(other->namespace_name, "default");
}

TEST_F(ConfigTest, SeveralFilesFirstOneThatSetsAKeyWins) {
  std::string first = Write("first", R"(
current-context: mine
users:
- name: u
  user: {token: from-first}
)");
  std::string second = Write("second", R"(
current-context: theirs
clusters:
- name: c
  cluster: {server: "https://second:1"}
users:
- name: u
  user: {token: from-second}
contexts:
- name: mine
  context: {cluster: c, user: u}
- name: theirs
  context: {cluster: c, user: u, namespace: wrong}
)");
  auto config = LoadKubeconfig({first, Write("missing-is-skipped", ""), second});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://second:1");
  EXPECT_EQ(config->token, "from-first");
  EXPECT_EQ(config->namespace_name, "default");  // context "mine", not "theirs"
}

TEST_F(ConfigTest, KubeconfigEnvironmentListsSeveralFiles) {
  std::string a = Write("a", "current-context: x\n");
  std::string b = Write("b", R"(
clusters: [{name: c, cluster: {server: "https://b:2"}}]
users: [{name: u, user: {tokenFile: tok}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  setenv("KUBECONFIG", absl::StrCat(a, ":", b).c_str(), 1);
  auto config = LoadKubeconfigFromEnv();
  unsetenv("KUBECONFIG");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://b:2");
  EXPECT_EQ(config->token_file, (dir_ / "tok").string());
}

TEST_F(ConfigTest, MissingContextIsAnError) {
  std::string path = Write("c", "current-context: nope\n");
  auto config = LoadKubeconfig({path});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(LoadKubeconfig({Write("bad", "clusters: [\n")}).ok());
  EXPECT_EQ(LoadKubeconfig({(dir_ / "absent").string()}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ConfigTest, InClusterConfigReadsServiceAccountAndEnvironment) {
  Write("sub/token", "tok-1\n");
  Write("sub/ca.crt", "CA");
  Write("sub/namespace", "jobs\n");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = InClusterConfig((dir_ / "sub").string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, "CA");
  EXPECT_EQ(config->namespace_name, "jobs");
  EXPECT_EQ(config->token_file, (dir_ / "sub/token").string());
  EXPECT_EQ(InClusterConfig((dir_ / "sub").string()).status().code(),
            absl::StatusCode::kFailedPrecondition);  // env no longer set
}

TEST_F(ConfigTest, RotatedTokenFileIsReadAgainAfterTheReloadPeriod) {
  std::string path = Write("token", "first\n");
  common::FakeClock clock;
  TokenSource source("", path, absl::Minutes(1), clock);
  EXPECT_EQ(source.Token(), "first");
  Write("token", "second");
  clock.Advance(absl::Seconds(30));
  EXPECT_EQ(source.Token(), "first");  // cached
  clock.Advance(absl::Seconds(31));
  EXPECT_EQ(source.Token(), "second");
  fs::remove(path);
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(source.Token(), "second");  // a read error keeps the last good token
}

}  // namespace
}  // namespace kubedl::kube
