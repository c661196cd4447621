#include "services/webhook/admission_reviewer.h"

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/api/json.h"
#include "services/webhook/webhook_routes.h"

namespace kubedl::webhook {
namespace {

using api::Json;
using ::testing::HasSubstr;

Json TfJob() {
  return Json::parse(R"({
    "apiVersion": "kubeflow.org/v1", "kind": "TFJob",
    "metadata": {"name": "demo", "namespace": "ns"},
    "spec": {"tfReplicaSpecs": {"worker": {"replicas": 2, "template": {"spec": {"containers": [
      {"name": "tensorflow", "image": "tf:2"}]}}}}}})");
}

std::string ReviewBody(const Json& object, const std::string& operation = "CREATE",
                       const Json* old_object = nullptr) {
  Json review = {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}};
  Json request = {{"uid", "u-123"}, {"operation", operation}, {"object", object}};
  if (old_object) request["oldObject"] = *old_object;
  review["request"] = request;
  return review.dump();
}

const api::KindDescriptor& Tf() { return api::Describe(api::JobKind::kTFJob); }

Json Response(const ReviewOutcome& out) {
  EXPECT_EQ(out.http_status, 200) << out.body;
  Json review = Json::parse(out.body);
  EXPECT_EQ(review["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(review["kind"], "AdmissionReview");
  EXPECT_EQ(review["response"]["uid"], "u-123");
  return review["response"];
}

Json Patched(const Json& object, const Json& response) {
  std::string patch;
  EXPECT_TRUE(absl::Base64Unescape(response["patch"].get<std::string>(), &patch));
  return object.patch(Json::parse(patch));
}

TEST(AdmissionReviewerTest, MutateReturnsABase64JsonPatchThatAppliesCleanly) {
  Json object = TfJob();
  ReviewOutcome out = Review(WebhookType::kMutate, Tf(), ReviewBody(object));
  Json response = Response(out);
  EXPECT_EQ(out.result, ReviewResult::kPatched);
  EXPECT_EQ(response["allowed"], true);
  EXPECT_EQ(response["patchType"], "JSONPatch");
  Json defaulted = Patched(object, response);
  const Json& worker = defaulted["spec"]["tfReplicaSpecs"]["Worker"];
  EXPECT_EQ(worker["restartPolicy"], "Never");
  EXPECT_EQ(worker["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 2222);
  EXPECT_EQ(defaulted["spec"]["runPolicy"]["cleanPodPolicy"], "None");
  // A second pass over the defaulted object changes nothing.
  ReviewOutcome again = Review(WebhookType::kMutate, Tf(), ReviewBody(defaulted));
  EXPECT_EQ(again.result, ReviewResult::kAllowed);
  EXPECT_FALSE(Response(again).contains("patch"));
}

// The patch is streamed from the body's text; a body that repeats a key (no API server sends
// one) cannot be streamed and takes the parsed diff instead. Both patches apply to the object as
// the parser reads it (last value of a repeated key) and give the same defaulted job.
TEST(AdmissionReviewerTest, RepeatedKeysInTheBodyStillGiveAPatchThatAppliesCleanly) {
  Json object = TfJob();
  std::string streamed_body = ReviewBody(object);
  std::string repeated_body = streamed_body;
  const std::string spec_key = "\"spec\":";
  size_t at = repeated_body.find(spec_key);
  ASSERT_NE(at, std::string::npos);
  repeated_body.insert(at, R"("spec":{"tfReplicaSpecs":{}},)");
  Json streamed = Patched(object, Response(Review(WebhookType::kMutate, Tf(), streamed_body)));
  ReviewOutcome repeated_out = Review(WebhookType::kMutate, Tf(), repeated_body);
  EXPECT_EQ(repeated_out.result, ReviewResult::kPatched);
  Json repeated = Patched(object, Response(repeated_out));
  EXPECT_EQ(nlohmann::json::parse(repeated.dump()), nlohmann::json::parse(streamed.dump()));
  EXPECT_EQ(repeated["spec"]["tfReplicaSpecs"]["Worker"]["restartPolicy"], "Never");
}

TEST(AdmissionReviewerTest, MovedLegacyKeysComeBackAsWarnings) {
  Json object = TfJob();
  object["spec"]["backoffLimit"] = 3;
  Json response = Response(Review(WebhookType::kMutate, Tf(), ReviewBody(object)));
  ASSERT_TRUE(response.contains("warnings"));
  EXPECT_EQ(response["warnings"][0],
            "spec.backoffLimit is deprecated: moved to spec.runPolicy.backoffLimit");
  EXPECT_EQ(Patched(object, response)["spec"]["runPolicy"]["backoffLimit"], 3);
}

TEST(AdmissionReviewerTest, InvalidJobIsDenied422WithEveryProblemAndItsPath) {
  Json object = TfJob();
  object["metadata"]["name"] = "Demo";
  object["spec"]["tfReplicaSpecs"]["worker"]["template"]["spec"]["containers"][0].erase("image");
  ReviewOutcome out = Review(WebhookType::kValidate, Tf(), ReviewBody(object));
  Json response = Response(out);
  EXPECT_EQ(out.result, ReviewResult::kDenied);
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 422);
  EXPECT_EQ(response["status"]["reason"], "Invalid");
  std::string message = response["status"]["message"];
  EXPECT_THAT(message, HasSubstr("TFJob.kubeflow.org \"Demo\" is invalid: [metadata.name: "));
  EXPECT_THAT(message,
              HasSubstr("spec.tfReplicaSpecs[Worker].template.spec.containers[0].image: "
                        "Required value"));
}

TEST(AdmissionReviewerTest, ValidJobIsAllowedByTheValidatingWebhook) {
  ReviewOutcome out = Review(WebhookType::kValidate, Tf(), ReviewBody(TfJob()));
  EXPECT_EQ(Response(out)["allowed"], true);
  EXPECT_EQ(out.result, ReviewResult::kAllowed);
}

TEST(AdmissionReviewerTest, UpdateChecksImmutableFieldsAgainstOldObject) {
  Json old = TfJob();
  old["spec"]["runPolicy"] = {{"schedulingPolicy", {{"queue", "a"}}}};
  Json next = old;
  next["spec"]["runPolicy"]["schedulingPolicy"]["queue"] = "b";
  Json response = Response(Review(WebhookType::kValidate, Tf(), ReviewBody(next, "UPDATE", &old)));
  EXPECT_EQ(response["allowed"], false);
  EXPECT_THAT(response["status"]["message"].get<std::string>(),
              HasSubstr("spec.runPolicy.schedulingPolicy.queue: Invalid value: \"b\": field is "
                        "immutable"));
}

TEST(AdmissionReviewerTest, DeleteAndConnectAreAllowedUntouched) {
  for (const char* op : {"DELETE", "CONNECT"}) {
    Json review = {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"},
                   {"request", {{"uid", "u-123"}, {"operation", op}, {"object", nullptr}}}};
    for (WebhookType type : {WebhookType::kMutate, WebhookType::kValidate}) {
      Json response = Response(Review(type, Tf(), review.dump()));
      EXPECT_EQ(response["allowed"], true);
      EXPECT_FALSE(response.contains("patch"));
    }
  }
}

TEST(AdmissionReviewerTest, WronglyTypedFieldIsDenied400) {
  Json object = TfJob();
  object["spec"]["tfReplicaSpecs"]["worker"]["replicas"] = "two";
  ReviewOutcome out = Review(WebhookType::kMutate, Tf(), ReviewBody(object));
  Json response = Response(out);
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 400);
  EXPECT_THAT(response["status"]["message"].get<std::string>(),
              HasSubstr("spec.tfReplicaSpecs[worker].replicas: Invalid value: \"two\": must be "
                        "of type integer"));
}

TEST(AdmissionReviewerTest, ObjectOfAnotherKindIsDenied400) {
  Json object = TfJob();
  object["kind"] = "PyTorchJob";
  Json response = Response(Review(WebhookType::kMutate, Tf(), ReviewBody(object)));
  EXPECT_EQ(response["status"]["code"], 400);
  EXPECT_THAT(response["status"]["message"].get<std::string>(),
              HasSubstr("admits kubeflow.org/v1 TFJob"));
}

TEST(AdmissionReviewerTest, MalformedReviewsAreHttp400NeverACrash) {
  const char* bodies[] = {
      "", "{", "null", "[]", "42",
      R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"Other","request":{}})"};
  for (const char* body : bodies) {
    ReviewOutcome out = Review(WebhookType::kValidate, Tf(), body);
    EXPECT_EQ(out.http_status, 400) << body;
    EXPECT_EQ(out.result, ReviewResult::kBadRequest) << body;
  }
}

TEST(AdmissionReviewerTest, JsonNestedDeeperThanTheLimitIs400UnparsedByBothWebhooks) {
  // 50,000 levels inside a label value's place: deep enough to overflow the stack of a
  // recursive copy once parsed. It is refused before parsing.
  Json job = TfJob();
  job["metadata"]["labels"]["deep"] = "PLACEHOLDER";
  std::string body = ReviewBody(job);
  body.replace(body.find("\"PLACEHOLDER\""), 13,
               std::string(50000, '[') + std::string(50000, ']'));
  for (WebhookType type : {WebhookType::kMutate, WebhookType::kValidate}) {
    ReviewOutcome out = Review(type, Tf(), body);
    EXPECT_EQ(out.http_status, 400);
    EXPECT_EQ(out.result, ReviewResult::kBadRequest);
    EXPECT_EQ(out.body, "request body nests JSON more than 128 levels deep\n");
  }
  // The same job at a depth within the limit is reviewed as usual.
  std::string shallow = ReviewBody(TfJob());
  EXPECT_EQ(Review(WebhookType::kValidate, Tf(), shallow, {}, 20).http_status, 200);
  EXPECT_EQ(Review(WebhookType::kValidate, Tf(), shallow, {}, 5).http_status, 400);
}

TEST(AdmissionReviewerTest, MissingObjectOnCreateIsDenied400) {
  Json review = {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"},
                 {"request", {{"uid", "u-123"}, {"operation", "CREATE"}}}};
  Json response = Response(Review(WebhookType::kMutate, Tf(), review.dump()));
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 400);
}

TEST(WebhookRoutesTest, PathsFollowGroupVersionKind) {
  EXPECT_EQ(WebhookPath(WebhookType::kMutate, Tf()), "/mutate-kubeflow-org-v1-tfjob");
  EXPECT_EQ(WebhookPath(WebhookType::kValidate, api::Describe(api::JobKind::kXDLJob)),
            "/validate-xdl-kubedl-io-v1alpha1-xdljob");
  common::HttpRoutes routes;
  prometheus::Registry registry;
  AddAdmissionRoutes(routes, registry);
  EXPECT_EQ(routes.size(), 2 * api::AllKinds().size());
  EXPECT_TRUE(routes.count("/mutate-kubeflow-org-v1-pytorchjob"));
  EXPECT_TRUE(routes.count("/validate-kubeflow-org-v1-mpijob"));
  EXPECT_TRUE(routes.count("/validate-kubeflow-org-v1-xgboostjob"));
}

TEST(WebhookRoutesTest, RequestsAreCountedByKindWebhookOperationAndResult) {
  common::HttpRoutes routes;
  prometheus::Registry registry;
  AddAdmissionRoutes(routes, registry);
  std::string body = ReviewBody(TfJob());
  auto res = routes["/mutate-kubeflow-org-v1-tfjob"](
      common::HttpRequest{.method = "POST",
                          .path = "/mutate-kubeflow-org-v1-tfjob",
                          .content_type = "application/json",
                          .body = body});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(routes["/mutate-kubeflow-org-v1-tfjob"](common::HttpRequest{.method = "GET"}).status,
            405);
  double patched = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != "kubedl_webhook_requests_total") continue;
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      if (labels["kind"] == "TFJob" && labels["webhook"] == "mutate" &&
          labels["operation"] == "CREATE" && labels["result"] == "patched") {
        patched = m.counter.value;
      }
    }
  }
  EXPECT_EQ(patched, 1);
}

TEST(WebhookRoutesTest, ABodyThatIsNotJsonIsAnswered415NamingTheContentType) {
  common::HttpRoutes routes;
  prometheus::Registry registry;
  AddAdmissionRoutes(routes, registry);
  const std::string body = ReviewBody(TfJob());
  auto post = [&](std::string_view content_type) {
    return routes["/validate-kubeflow-org-v1-tfjob"](
        common::HttpRequest{.method = "POST",
                            .path = "/validate-kubeflow-org-v1-tfjob",
                            .content_type = content_type,
                            .body = body});
  };
  for (std::string_view json : {"application/json", "application/json; charset=utf-8",
                                "Application/JSON ;charset=UTF-8"}) {
    EXPECT_EQ(post(json).status, 200) << json;
  }
  for (std::string_view other : {"", "text/plain", "application/yaml", "application/jsonx"}) {
    common::HttpResponse res = post(other);
    EXPECT_EQ(res.status, 415) << other;
    EXPECT_EQ(res.body,
              "admission reviews are application/json, not '" + std::string(other) + "'\n");
  }
}

TEST(WebhookRoutesTest, ValidationUsesThePodSchemaAndLimitsOfTheOptions) {
  // A containerPort written as a string: refused with its path by the built-in schema...
  Json poison = TfJob();
  poison["spec"]["tfReplicaSpecs"]["worker"]["template"]["spec"]["containers"][0]["ports"] =
      Json::parse(R"([{"name": "tfjob-port", "containerPort": "2222"}])");
  const std::string body = ReviewBody(poison);
  const common::HttpRequest request{.method = "POST",
                                    .path = "/validate-kubeflow-org-v1-tfjob",
                                    .content_type = "application/json",
                                    .body = body};
  auto deny_message = [&](const AdmissionOptions& options) {
    common::HttpRoutes routes;
    prometheus::Registry registry;
    AddAdmissionRoutes(routes, registry, options);
    Json response = Json::parse(routes["/validate-kubeflow-org-v1-tfjob"](request).body)["response"];
    return response["allowed"] == true ? std::string("allowed")
                                       : response["status"]["message"].get<std::string>();
  };
  EXPECT_THAT(deny_message({}),
              HasSubstr("spec.tfReplicaSpecs[Worker].template.spec.containers[0].ports[0]."
                        "containerPort: Invalid value: \"2222\": must be of type integer"));
  // ...and accepted by a schema that knows no ports, asked for on every review.
  auto no_ports = api::PodSchema::FromOpenApiV3(Json::parse(R"({"components": {"schemas": {
      "io.k8s.api.core.v1.PodTemplateSpec": {"type": "object"}}}})"));
  ASSERT_TRUE(no_ports.ok());
  int asked = 0;
  AdmissionOptions options;
  options.pod_schema = [&] {
    ++asked;
    return *no_ports;
  };
  EXPECT_EQ(deny_message(options), "allowed");
  EXPECT_EQ(asked, 1);
  // The replica limits come from the options too.
  options.max_replicas_per_type = 1;
  EXPECT_THAT(deny_message(options),
              HasSubstr("spec.tfReplicaSpecs[Worker].replicas: Invalid value: 2"));
}

}  // namespace
}  // namespace kubedl::webhook
