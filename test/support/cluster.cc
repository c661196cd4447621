#include "kubedl/testing/cluster.h"

#include <cstdlib>
#include <fstream>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kubedl/kube/config.h"

namespace kubedl::testing {

std::string ClusterDir() {
  const char* dir = std::getenv("KUBEDL_CLUSTER_DIR");
  return dir ? dir : "";
}

std::string ClusterEnv(const std::string& key) {
  std::ifstream in(ClusterDir() + "/env");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, key + "=")) return line.substr(key.size() + 1);
  }
  return "";
}

absl::Status ApplyCrds(const std::string& folder) {
  const char* kubectl_env = std::getenv("KUBECTL");
  const char* repo_env = std::getenv("KUBEDL_REPO");
  const std::string kubectl = kubectl_env && *kubectl_env ? kubectl_env : "kubectl";
  const std::string path = std::string(repo_env && *repo_env ? repo_env : ".") + "/" + folder;
  const std::string apply = kubectl + " apply --server-side --force-conflicts " +
                            "--field-manager=kubedl-tests -f " + path + " >/dev/null";
  if (std::system(apply.c_str()) != 0) return absl::InternalError("failed: " + apply);
  const std::string wait = kubectl + " wait --for=condition=Established --timeout=60s -f " +
                           path + " >/dev/null";
  if (std::system(wait.c_str()) != 0) return absl::InternalError("failed: " + wait);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<kube::Client>> ClientFromTestEnvironment() {
  const char* kubeconfig = std::getenv("KUBECONFIG");
  if (!kubeconfig || !*kubeconfig)
    return absl::FailedPreconditionError(
        "KUBECONFIG is not set: run integration tests with tools/run-tests.sh, or source "
        ".local/cluster/env and export KUBECONFIG KUBEDL_CLUSTER_DIR");
  auto config = kube::LoadKubeconfigFromEnv();
  if (!config.ok()) return config.status();
  return kube::NewClient(*config);
}

std::string RandomName(const std::string& prefix) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string suffix;
  for (int i = 0; i < 6; ++i) suffix.push_back(kChars[rng() % 36]);
  return absl::StrCat(prefix, "-", suffix);
}

absl::StatusOr<std::unique_ptr<TestNamespace>> TestNamespace::Create(kube::Client& client,
                                                                     const std::string& prefix) {
  std::string name = RandomName(prefix);
  kube::Object ns = {{"apiVersion", "v1"}, {"kind", "Namespace"},
                     {"metadata", {{"name", name}, {"labels", {{"kubedl.io/test", "true"}}}}}};
  auto created = client.Create(kube::resources::Namespaces(), "", ns);
  if (!created.ok()) return created.status();
  return std::unique_ptr<TestNamespace>(new TestNamespace(client, name));
}

TestNamespace::~TestNamespace() {
  kube::DeleteOptions options;
  options.propagation_policy = "Background";
  (void)client_.Delete(kube::resources::Namespaces(), "", name_, options);
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return condition();
    absl::SleepFor(absl::Milliseconds(50));
  }
}

kube::Object MakePod(const std::string& name, const kube::Object& labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
}

void ClusterTest::SetUp() {
  auto client = ClientFromTestEnvironment();
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = std::move(*client);
  auto ns = TestNamespace::Create(*client_, NamespacePrefix());
  ASSERT_TRUE(ns.ok()) << ns.status();
  namespace_ = std::move(*ns);
}

void ClusterTest::TearDown() {
  namespace_.reset();
  client_.reset();
}

}  // namespace kubedl::testing
