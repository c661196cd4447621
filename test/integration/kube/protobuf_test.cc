// Creates in Kubernetes' protobuf against the real API server: what the client writes in
// protobuf reads back from the server as the JSON that was meant, errors answered in protobuf
// are the same typed errors, and what the schema cannot carry goes as JSON.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/http_transport.h"
#include "kubedl/kube/protobuf_codec.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/testing/cluster.h"

namespace kubedl::kube {
namespace {

using testing::ClusterTest;
using testing::MakePod;

// The real transport, remembering what each POST sent and got.
class RecordingTransport final : public HttpTransport {
 public:
  struct Post {
    std::string target, content_type, accept;
    int status = 0;
    bool answer_in_protobuf = false;
  };
  explicit RecordingTransport(std::unique_ptr<HttpTransport> real) : real_(std::move(real)) {}

  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) override {
    auto response = real_->RoundTrip(request);
    if (request.method == "POST" && response.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      posts_.push_back({request.target, request.content_type, request.accept, response->status,
                        IsProtobufEnvelope(response->body)});
    }
    return response;
  }
  absl::StatusOr<std::unique_ptr<ResponseStream>> OpenStream(const HttpRequest& r) override {
    return real_->OpenStream(r);
  }
  Post Last() {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_.empty() ? Post{} : posts_.back();
  }

 private:
  std::unique_ptr<HttpTransport> real_;
  std::mutex mu_;
  std::vector<Post> posts_;
};

// Every field of `sent` is in `got` with the same value; the server adds defaults and metadata,
// and appends to some lists (admission's default tolerations).
::testing::AssertionResult Holds(const Object& sent, const Object& got, const std::string& path) {
  if (sent.is_object()) {
    if (!got.is_object()) return ::testing::AssertionFailure() << path << " is not an object";
    for (const auto& [k, v] : sent.items()) {
      if (!got.contains(k)) return ::testing::AssertionFailure() << path << "." << k << " is missing";
      auto held = Holds(v, got[k], path + "." + k);
      if (!held) return held;
    }
    return ::testing::AssertionSuccess();
  }
  if (sent.is_array()) {
    if (!got.is_array() || got.size() < sent.size())
      return ::testing::AssertionFailure() << path << " is " << got.dump();
    for (size_t i = 0; i < sent.size(); ++i) {
      auto held = Holds(sent[i], got[i], path + "[" + std::to_string(i) + "]");
      if (!held) return held;
    }
    return ::testing::AssertionSuccess();
  }
  if (sent != got)
    return ::testing::AssertionFailure() << path << " is " << got.dump() << ", sent " << sent.dump();
  return ::testing::AssertionSuccess();
}

class ProtobufTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-protobuf"; }
  void SetUp() override {
    ClusterTest::SetUp();
    auto config = LoadKubeconfigFromEnv();
    ASSERT_TRUE(config.ok()) << config.status();
    auto transport = NewHttpTransport(*config);
    ASSERT_TRUE(transport.ok()) << transport.status();
    auto recording = std::make_unique<RecordingTransport>(std::move(*transport));
    recorder_ = recording.get();
    config_ = *config;
    client_ = NewClient(config_, std::move(recording));
  }
  Client& protobuf_client() { return *client_; }
  RecordingTransport& recorder() { return *recorder_; }
  Config config_;

 private:
  std::unique_ptr<Client> client_;
  RecordingTransport* recorder_ = nullptr;
};

Object TrainingPod(const std::string& ns) {
  Object pod = Object::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "job-worker-0",
                 "labels": {"training.kubeflow.org/job-name": "job", "replica-index": "0"},
                 "annotations": {"empty": "", "note": "protobuf"}},
    "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 30,
             "enableServiceLinks": false,
             "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoExecute",
                              "tolerationSeconds": 6000000000}],
             "securityContext": {"runAsUser": 1000, "runAsNonRoot": true},
             "volumes": [{"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}},
                         {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
             "containers": [{"name": "tensorflow", "image": "kubedl/tf-mnist:1.0",
                             "command": ["python", "/app/main.py"],
                             "env": [{"name": "TF_CONFIG", "value": "{\"cluster\":{\"ps\":[]}}"},
                                     {"name": "POD_IP", "valueFrom": {"fieldRef":
                                       {"apiVersion": "v1", "fieldPath": "status.podIP"}}}],
                             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                           "limits": {"cpu": "2", "memory": "1Gi"}},
                             "ports": [{"name": "tfjob-port", "containerPort": 2222,
                                        "protocol": "TCP"}],
                             "readinessProbe": {"tcpSocket": {"port": "tfjob-port"},
                                                "periodSeconds": 5},
                             "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg",
                                               "readOnly": true}]}]}})");
  pod["metadata"]["namespace"] = ns;
  return pod;
}

TEST_F(ProtobufTest, APodServiceAndEventWrittenInProtobufReadBackAsTheJsonMeant) {
  const Object pod = TrainingPod(ns());
  ASSERT_TRUE(protobuf_client().CreateStatusOnly(resources::Pods(), ns(), pod).ok());
  RecordingTransport::Post post = recorder().Last();
  EXPECT_EQ(post.content_type, kProtobufContentType);
  EXPECT_EQ(post.status, 201);
  EXPECT_TRUE(post.answer_in_protobuf) << "the server answered in JSON";

  const Object service = Object::parse(R"({"apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "job-worker-0", "labels": {"job-name": "job"}},
    "spec": {"clusterIP": "None", "selector": {"job-name": "job", "replica-index": "0"},
             "ports": [{"name": "tfjob-port", "port": 2222, "targetPort": 2222},
                       {"name": "by-name", "port": 80, "targetPort": "tfjob-port"}]}})");
  ASSERT_TRUE(protobuf_client().CreateStatusOnly(resources::Services(), ns(), service).ok());
  EXPECT_EQ(recorder().Last().content_type, kProtobufContentType);

  Object event = Object::parse(R"({"apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "job.1"},
    "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "job-worker-0"},
    "reason": "SuccessfulCreatePod", "message": "Created pod: job-worker-0", "type": "Normal",
    "count": 3, "source": {"component": "kubedl-reconciler", "host": "node-a"},
    "firstTimestamp": "2026-12-02T10:00:00Z", "lastTimestamp": "2026-12-02T10:00:07Z",
    "reportingComponent": "kubedl-reconciler", "reportingInstance": "node-a"})");
  event["involvedObject"]["namespace"] = ns();
  ASSERT_TRUE(protobuf_client().CreateStatusOnly(resources::Events(), ns(), event).ok());
  EXPECT_EQ(recorder().Last().content_type, kProtobufContentType);

  for (const auto& [ref, sent] : {std::pair{resources::Pods(), pod},
                                  std::pair{resources::Services(), service},
                                  std::pair{resources::Events(), event}}) {
    auto got = client().Get(ref, ns(), Name(sent));  // read back as JSON
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(Holds(sent, *got, ref.resource));
  }
}

TEST_F(ProtobufTest, ErrorsAnsweredInProtobufAreTheSameTypedErrors) {
  ASSERT_TRUE(protobuf_client().CreateStatusOnly(resources::Pods(), ns(), MakePod("dup")).ok());
  absl::Status dup = protobuf_client().CreateStatusOnly(resources::Pods(), ns(), MakePod("dup"));
  EXPECT_TRUE(kube::IsAlreadyExists(dup)) << dup;
  EXPECT_EQ(recorder().Last().status, 409);
  EXPECT_TRUE(recorder().Last().answer_in_protobuf);

  Object invalid = MakePod("bad");
  invalid["spec"]["containers"][0].erase("image");
  absl::Status rejected = protobuf_client().CreateStatusOnly(resources::Pods(), ns(), invalid);
  ASSERT_TRUE(kube::IsInvalid(rejected)) << rejected;
  EXPECT_EQ(recorder().Last().content_type, kProtobufContentType);
  EXPECT_TRUE(recorder().Last().answer_in_protobuf);
  bool image_cause = false;
  for (const auto& cause : Causes(rejected)) image_cause |= cause.field == "spec.containers[0].image";
  EXPECT_TRUE(image_cause) << rejected;
}

TEST_F(ProtobufTest, AnObjectTheSchemaCannotCarryGoesAsJson) {
  Object pod = MakePod("unknown-field");
  pod["spec"]["containers"][0]["notAField"] = "x";
  ASSERT_TRUE(protobuf_client().CreateStatusOnly(resources::Pods(), ns(), pod).ok());
  EXPECT_EQ(recorder().Last().content_type, "application/json");
  EXPECT_EQ(recorder().Last().status, 201);
}

TEST_F(ProtobufTest, TheJsonSettingSendsJson) {
  config_.protobuf = false;
  auto transport = NewHttpTransport(config_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  auto recording = std::make_unique<RecordingTransport>(std::move(*transport));
  RecordingTransport* seen = recording.get();
  std::unique_ptr<Client> json_client = NewClient(config_, std::move(recording));
  ASSERT_TRUE(json_client->CreateStatusOnly(resources::Pods(), ns(), MakePod("as-json")).ok());
  EXPECT_EQ(seen->Last().content_type, "application/json");
  EXPECT_FALSE(seen->Last().answer_in_protobuf);
}

}  // namespace
}  // namespace kubedl::kube
