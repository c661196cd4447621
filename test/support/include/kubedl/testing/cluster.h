#pragma once

// Integration tests against the local control plane (tools/controlplane). The test runner
// exports KUBECONFIG and KUBEDL_CLUSTER_DIR; ClusterTest builds a Client from them and gives
// every test a namespace of its own (random suffix), deleted at the end:
//
//   class PodTest : public kubedl::testing::ClusterTest {};
//   TEST_F(PodTest, CreatesAPod) {
//     auto pod = client().Create(kube::resources::Pods(), ns(), MakePod("p"));
//     ASSERT_TRUE(pod.ok()) << pod.status();
//   }

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::testing {

// A Client for $KUBECONFIG (the local control plane).
absl::StatusOr<std::unique_ptr<kube::Client>> ClientFromTestEnvironment();

// A value from $KUBEDL_CLUSTER_DIR/env (e.g. "ETCD_PORT"), or "" when absent.
std::string ClusterEnv(const std::string& key);
// $KUBEDL_CLUSTER_DIR (the control plane's state folder).
std::string ClusterDir();

// Applies the CRDs in `folder` (relative to $KUBEDL_REPO) with server-side apply, so tests
// running side by side do not race on a create, and waits until every one is Established. Each
// test binary applies what it needs itself: none may rely on another having run first.
absl::Status ApplyCrds(const std::string& folder);

// "prefix-" + 6 random lower-case letters/digits.
std::string RandomName(const std::string& prefix);

// Creates a namespace and deletes it (in the background, without waiting) when destroyed.
class TestNamespace {
 public:
  static absl::StatusOr<std::unique_ptr<TestNamespace>> Create(kube::Client& client,
                                                               const std::string& prefix);
  ~TestNamespace();
  const std::string& name() const { return name_; }

 private:
  TestNamespace(kube::Client& client, std::string name) : client_(client), name_(std::move(name)) {}
  kube::Client& client_;
  std::string name_;
};

// Polls `condition` every 50 ms until true or `timeout`; returns its last answer.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout = absl::Seconds(30));

// A minimal pod (one container, image "busybox") named `name`, with optional labels.
kube::Object MakePod(const std::string& name, const kube::Object& labels = kube::Object::object());

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  kube::Client& client() { return *client_; }
  const std::string& ns() const { return namespace_->name(); }
  // Prefix of the namespace name; override to tell tests apart in the cluster.
  virtual std::string NamespacePrefix() const { return "kubedl-test"; }

 private:
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<TestNamespace> namespace_;
};

}  // namespace kubedl::testing
