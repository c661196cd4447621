// The client's choice of encoding for creates, against a scripted transport: protobuf for core
// kinds, JSON from then on when the server refuses protobuf, and errors read from either.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/http_transport.h"
#include "kubedl/kube/protobuf_codec.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::kube {
namespace {

class ScriptedTransport final : public HttpTransport {
 public:
  using Script = std::function<HttpResponse(const HttpRequest&)>;
  ScriptedTransport(Script script, std::vector<HttpRequest>* seen)
      : script_(std::move(script)), seen_(seen) {}
  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) override {
    seen_->push_back(request);
    return script_(request);
  }
  absl::StatusOr<std::unique_ptr<ResponseStream>> OpenStream(const HttpRequest&) override {
    return absl::UnimplementedError("no watches here");
  }

 private:
  Script script_;
  std::vector<HttpRequest>* seen_;
};

Object Pod(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}}},
          {"spec", {{"containers", Object::array({{{"name", "c"}, {"image", "i"}}})}}}};
}

std::unique_ptr<Client> ClientWith(ScriptedTransport::Script script,
                                   std::vector<HttpRequest>* seen, bool protobuf = true) {
  Config config;
  config.protobuf = protobuf;
  return NewClient(config, std::make_unique<ScriptedTransport>(std::move(script), seen));
}

TEST(RestClientProtobufTest, CoreCreatesGoInProtobufAndCustomResourcesInJson) {
  std::vector<HttpRequest> seen;
  auto client = ClientWith([](const HttpRequest&) { return HttpResponse{201, "", ""}; }, &seen);
  ASSERT_TRUE(client->CreateStatusOnly(resources::Pods(), "ns", Pod("p")).ok());
  const ResourceRef tfjobs{"kubeflow.org", "v1", "tfjobs", true};
  ASSERT_TRUE(client->CreateStatusOnly(tfjobs, "ns", {{"apiVersion", "kubeflow.org/v1"},
                                                      {"kind", "TFJob"}}).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].content_type, kProtobufContentType);
  EXPECT_TRUE(IsProtobufEnvelope(seen[0].body));
  EXPECT_EQ(seen[0].accept.rfind(kProtobufContentType, 0), 0u) << seen[0].accept;
  EXPECT_EQ(seen[1].content_type, "application/json");
  EXPECT_EQ(Object::parse(seen[1].body)["kind"], "TFJob");
}

TEST(RestClientProtobufTest, AServerThatRefusesProtobufGetsJsonFromThenOn) {
  std::vector<HttpRequest> seen;
  auto client = ClientWith(
      [](const HttpRequest& request) {
        if (request.content_type == kProtobufContentType)
          return HttpResponse{415, R"({"kind":"Status","reason":"UnsupportedMediaType",
                                       "message":"the body of the request was in an unknown format"})",
                              ""};
        return HttpResponse{201, "", ""};
      },
      &seen);
  ASSERT_TRUE(client->CreateStatusOnly(resources::Pods(), "ns", Pod("a")).ok());
  ASSERT_TRUE(client->CreateStatusOnly(resources::Pods(), "ns", Pod("b")).ok());
  ASSERT_EQ(seen.size(), 3u);  // a in protobuf (refused), a in JSON, b in JSON
  EXPECT_EQ(seen[0].content_type, kProtobufContentType);
  EXPECT_EQ(seen[1].content_type, "application/json");
  EXPECT_EQ(Name(Object::parse(seen[1].body)), "a");
  EXPECT_EQ(seen[2].content_type, "application/json");
  EXPECT_EQ(Name(Object::parse(seen[2].body)), "b");
}

TEST(RestClientProtobufTest, AnErrorAnsweredInProtobufIsTheSameTypedError) {
  auto status = EncodeProtobuf({{"apiVersion", "v1"}, {"kind", "Status"}, {"status", "Failure"},
                                {"reason", "AlreadyExists"}, {"code", 409},
                                {"message", "pods \"p\" already exists"}});
  ASSERT_TRUE(status.ok()) << status.status();
  std::vector<HttpRequest> seen;
  auto client = ClientWith([&](const HttpRequest&) { return HttpResponse{409, *status, ""}; },
                           &seen);
  absl::Status dup = client->CreateStatusOnly(resources::Pods(), "ns", Pod("p"));
  EXPECT_TRUE(kube::IsAlreadyExists(dup)) << dup;
  EXPECT_NE(dup.message().find("already exists"), absl::string_view::npos) << dup;
  EXPECT_EQ(seen.size(), 1u);  // a refusal is not a reason to fall back to JSON
}

TEST(RestClientProtobufTest, ABrokenProtobufErrorKeepsItsHttpCode) {
  std::vector<HttpRequest> seen;
  auto client = ClientWith(
      [](const HttpRequest&) { return HttpResponse{500, std::string("k8s\0\x0a\xff", 6), ""}; },
      &seen);
  absl::Status failed = client->CreateStatusOnly(resources::Pods(), "ns", Pod("p"));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(HttpCode(failed), 500) << failed;
}

TEST(RestClientProtobufTest, TheJsonSettingAndAnUnencodableObjectSendJson) {
  std::vector<HttpRequest> seen;
  auto respond = [](const HttpRequest&) { return HttpResponse{201, "", ""}; };
  auto json_client = ClientWith(respond, &seen, /*protobuf=*/false);
  ASSERT_TRUE(json_client->CreateStatusOnly(resources::Pods(), "ns", Pod("p")).ok());
  auto client = ClientWith(respond, &seen);
  Object odd = Pod("odd");
  odd["spec"]["futureField"] = true;
  ASSERT_TRUE(client->CreateStatusOnly(resources::Pods(), "ns", odd).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(seen[1].content_type, "application/json");
  EXPECT_TRUE(Object::parse(seen[1].body)["spec"]["futureField"].get<bool>());
}

}  // namespace
}  // namespace kubedl::kube
