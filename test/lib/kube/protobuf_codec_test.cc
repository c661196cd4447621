// Kubernetes' protobuf encoding of core/v1 objects: what goes in as JSON comes back as the same
// JSON, special kinds (quantities, int-or-string, times, bytes) keep their JSON form, and
// anything the schema cannot carry exactly is refused with its path instead of being dropped.

#include "kubedl/kube/protobuf_codec.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"

namespace kubedl::kube {
namespace {

using ::testing::HasSubstr;

Object RichPod() {
  return Object::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "job-worker-0", "namespace": "team-a",
                 "labels": {"training.kubeflow.org/job-name": "job", "replica-index": "0"},
                 "annotations": {"note": ""},
                 "ownerReferences": [{"apiVersion": "kubeflow.org/v1", "kind": "TFJob",
                                      "name": "job", "uid": "0b7f-11", "controller": true,
                                      "blockOwnerDeletion": true}]},
    "spec": {"restartPolicy": "Never", "hostNetwork": false,
             "terminationGracePeriodSeconds": 30, "nodeSelector": {"pool": "gpu"},
             "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoExecute",
                              "tolerationSeconds": 6000000000}],
             "securityContext": {"runAsUser": 1000, "runAsNonRoot": true},
             "volumes": [{"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}}],
             "containers": [{"name": "tensorflow", "image": "kubedl/tf-mnist:1.0",
                             "command": ["python", "/app/main.py"],
                             "env": [{"name": "TF_CONFIG", "value": "{\"cluster\":{}}"},
                                     {"name": "POD_IP", "valueFrom": {"fieldRef":
                                       {"fieldPath": "status.podIP"}}}],
                             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                           "limits": {"nvidia.com/gpu": "1"}},
                             "ports": [{"name": "tfjob-port", "containerPort": 2222,
                                        "protocol": "TCP"}],
                             "readinessProbe": {"tcpSocket": {"port": "tfjob-port"},
                                                "periodSeconds": 5}}]}})");
}

Object RoundTrip(const Object& object) {
  auto encoded = EncodeProtobuf(object);
  EXPECT_TRUE(encoded.ok()) << encoded.status();
  if (!encoded.ok()) return nullptr;
  EXPECT_TRUE(IsProtobufEnvelope(*encoded));
  auto decoded = DecodeProtobuf(*encoded);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : nullptr;
}

TEST(ProtobufCodecTest, APodComesBackAsTheSameJsonIncludingFalseZeroAndEmptyValues) {
  EXPECT_EQ(RoundTrip(RichPod()), RichPod());
}

TEST(ProtobufCodecTest, EmbeddedStructsStayInlineInTheJson) {
  // Probe's handler, Volume's source, a config map's name and an ephemeral container's fields
  // are fields of their own in protobuf and inline in JSON.
  Object pod = Object::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "image": "i",
                             "livenessProbe": {"exec": {"command": ["true"]}},
                             "envFrom": [{"configMapRef": {"name": "cm", "optional": true}}],
                             "env": [{"name": "K", "valueFrom": {"secretKeyRef":
                                       {"name": "s", "key": "k"}}}]}],
             "ephemeralContainers": [{"name": "debug", "image": "busybox",
                                      "targetContainerName": "c"}],
             "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                         {"name": "cfg", "projected": {"sources": [
                           {"configMap": {"name": "cm"}}, {"secret": {"name": "s"}}]}}]}})");
  EXPECT_EQ(RoundTrip(pod), pod);
}

TEST(ProtobufCodecTest, TheEncodingIsSmallerThanTheJson) {
  auto encoded = EncodeProtobuf(RichPod());
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_LT(encoded->size(), RichPod().dump().size());
}

TEST(ProtobufCodecTest, AServiceTargetPortKeepsItsNumberOrName) {
  Object service = Object::parse(R"({"apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "job-worker-0"},
    "spec": {"clusterIP": "None", "selector": {"job-name": "job"},
             "ports": [{"name": "by-number", "port": 2222, "targetPort": 2222},
                       {"name": "by-name", "port": 80, "targetPort": "tfjob-port"}]}})");
  Object back = RoundTrip(service);
  EXPECT_EQ(back, service);
  EXPECT_TRUE(back["spec"]["ports"][0]["targetPort"].is_number_integer());
  EXPECT_TRUE(back["spec"]["ports"][1]["targetPort"].is_string());
}

TEST(ProtobufCodecTest, AQuantityWrittenAsANumberBecomesItsText) {
  Object pod = RichPod();
  pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = 2;
  Object back = RoundTrip(pod);
  EXPECT_EQ(back["spec"]["containers"][0]["resources"]["limits"]["cpu"], "2");
}

TEST(ProtobufCodecTest, EventTimesKeepSecondsAndMicroseconds) {
  Object event = Object::parse(R"({"apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "job.1", "namespace": "team-a"},
    "involvedObject": {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "name": "job",
                       "uid": "0b7f-11"},
    "reason": "SuccessfulCreatePod", "message": "Created pod: job-worker-0", "type": "Normal",
    "count": 3, "source": {"component": "kubedl-reconciler"},
    "firstTimestamp": "2026-12-02T10:00:00Z", "lastTimestamp": "2026-12-02T10:00:07Z",
    "eventTime": "2026-12-02T10:00:07.123456Z", "reportingComponent": "kubedl-reconciler"})");
  EXPECT_EQ(RoundTrip(event), event);
}

TEST(ProtobufCodecTest, ATimeWithAnOffsetComesBackInUtc) {
  Object event = {{"apiVersion", "v1"}, {"kind", "Event"},
                  {"firstTimestamp", "2026-12-02T12:00:00+02:00"}};
  EXPECT_EQ(RoundTrip(event)["firstTimestamp"], "2026-12-02T10:00:00Z");
}

TEST(ProtobufCodecTest, BytesTravelAsTheirBase64) {
  Object secret = {{"apiVersion", "v1"}, {"kind", "Secret"},
                   {"metadata", {{"name", "s"}}},
                   {"data", {{"token", "aGVsbG8="}, {"empty", ""}}}};
  EXPECT_EQ(RoundTrip(secret), secret);
  secret["data"]["token"] = "not base64!";
  auto refused = EncodeProtobuf(secret);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("data[token]"));
}

TEST(ProtobufCodecTest, AFieldTheSchemaLacksIsRefusedWithItsPath) {
  Object pod = RichPod();
  pod["spec"]["containers"][0]["notAField"] = "x";
  auto refused = EncodeProtobuf(pod);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("spec.containers[0].notAField"));
}

TEST(ProtobufCodecTest, AValueOfAnotherTypeIsRefusedWithItsPath) {
  Object pod = RichPod();
  pod["spec"]["containers"][0]["ports"][0]["containerPort"] = "2222";
  auto as_string = EncodeProtobuf(pod);
  EXPECT_THAT(as_string.status().message(), HasSubstr("spec.containers[0].ports[0].containerPort"));
  pod["spec"]["containers"][0]["ports"][0]["containerPort"] = 4294967296;  // past int32
  EXPECT_FALSE(EncodeProtobuf(pod).ok());
  pod["spec"]["containers"][0]["ports"][0]["containerPort"] = 2222.5;
  EXPECT_FALSE(EncodeProtobuf(pod).ok());
  Object labels_as_list = RichPod();
  labels_as_list["metadata"]["labels"] = Object::array({"a"});
  EXPECT_THAT(EncodeProtobuf(labels_as_list).status().message(), HasSubstr("metadata.labels"));
  Object bad_time = {{"apiVersion", "v1"}, {"kind", "Event"}, {"firstTimestamp", "yesterday"}};
  EXPECT_THAT(EncodeProtobuf(bad_time).status().message(), HasSubstr("firstTimestamp"));
}

TEST(ProtobufCodecTest, ANullFieldAndAnEmptyListAreLeftOutAsTheServerWritesThem) {
  Object pod = RichPod();
  pod["spec"]["nodeName"] = nullptr;
  pod["spec"]["containers"][0]["args"] = Object::array();
  Object back = RoundTrip(pod);
  EXPECT_FALSE(back["spec"].contains("nodeName"));
  EXPECT_FALSE(back["spec"]["containers"][0].contains("args"));
  EXPECT_EQ(back, RichPod());
}

TEST(ProtobufCodecTest, OnlyV1KindsOfTheSchemaAreEncoded) {
  Object tfjob = {{"apiVersion", "kubeflow.org/v1"}, {"kind", "TFJob"}};
  EXPECT_EQ(EncodeProtobuf(tfjob).status().code(), absl::StatusCode::kInvalidArgument);
  Object no_kind = RichPod();
  no_kind.erase("kind");
  EXPECT_EQ(EncodeProtobuf(no_kind).status().code(), absl::StatusCode::kInvalidArgument);
  Object made_up = {{"apiVersion", "v1"}, {"kind", "NoSuchKind"}};
  EXPECT_EQ(EncodeProtobuf(made_up).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeProtobuf(Object::array()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtobufCodecTest, AStatusDecodesToTheJsonTheErrorsAreReadFrom) {
  Object status = Object::parse(R"({"apiVersion": "v1", "kind": "Status", "status": "Failure",
    "message": "Pod \"bad\" is invalid", "reason": "Invalid", "code": 422,
    "details": {"name": "bad", "kind": "pods",
                "causes": [{"reason": "FieldValueRequired", "message": "Required value",
                            "field": "spec.containers[0].image"}]}})");
  auto encoded = EncodeProtobuf(status);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  auto decoded = DecodeProtobuf(*encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  absl::Status error = StatusFromResponse(422, decoded->dump());
  EXPECT_TRUE(IsInvalid(error)) << error;
  ASSERT_EQ(Causes(error).size(), 1u);
  EXPECT_EQ(Causes(error)[0].field, "spec.containers[0].image");
}

TEST(ProtobufCodecTest, BrokenBytesAreDataLossNotACrash) {
  auto encoded = EncodeProtobuf(RichPod());
  ASSERT_TRUE(encoded.ok());
  EXPECT_FALSE(DecodeProtobuf("").ok());
  EXPECT_FALSE(DecodeProtobuf("{\"kind\":\"Status\"}").ok());
  EXPECT_FALSE(IsProtobufEnvelope("k8s"));
  for (size_t cut : {4ul, 5ul, 9ul, encoded->size() / 2, encoded->size() - 1}) {
    auto decoded = DecodeProtobuf(encoded->substr(0, cut));
    EXPECT_FALSE(decoded.ok()) << "cut at " << cut;
  }
  std::string flipped = *encoded;
  for (size_t i = 4; i < flipped.size(); i += 7) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  (void)DecodeProtobuf(flipped);  // any answer but a crash
  EXPECT_EQ(DecodeProtobuf(std::string("k8s\0\x0a\x00", 6)).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace kubedl::kube
