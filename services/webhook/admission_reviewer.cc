#include "services/webhook/admission_reviewer.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/api/json_parse.h"
#include "kubedl/api/json_patch_from_text.h"
#include "kubedl/api/validation.h"

namespace kubedl::webhook {
namespace {

using api::Json;

ReviewOutcome BadRequest(std::string message, std::string operation = "") {
  ReviewOutcome out;
  out.http_status = 400;
  out.content_type = "text/plain; charset=utf-8";
  out.body = std::move(message) + "\n";
  out.result = ReviewResult::kBadRequest;
  out.operation = std::move(operation);
  return out;
}

Json Envelope(Json response) {
  Json review = Json::object();
  review["apiVersion"] = "admission.k8s.io/v1";
  review["kind"] = "AdmissionReview";
  review["response"] = std::move(response);
  return review;
}

Json Response(const std::string& uid, bool allowed) {
  Json r = Json::object();
  r["uid"] = uid;
  r["allowed"] = allowed;
  return r;
}

// No status.details.causes: with causes kubectl prints only them, dropping which webhook denied
// the request; the message alone already lists every problem with its field path.
ReviewOutcome Deny(const std::string& uid, const std::string& operation, int code,
                   const char* reason, const std::string& message) {
  Json response = Response(uid, false);
  Json status = Json::object();
  status["status"] = "Failure";
  status["code"] = code;
  status["reason"] = reason;
  status["message"] = message;
  response["status"] = std::move(status);
  return ReviewOutcome{200, "application/json", Envelope(std::move(response)).dump(),
                       ReviewResult::kDenied, operation};
}

std::string StringAt(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// The patch from the request's object, as sent, to `written`. A body that repeats a key on the
// way (no API server sends one) takes the slower path of parsing the object again.
std::string JsonPatchOf(std::string_view body, const Json& written) {
  static const std::vector<std::string> kObjectPath = {"request", "object"};
  absl::StatusOr<std::string> patch = api::JsonPatchFromText(body, kObjectPath, written);
  if (patch.ok()) return *std::move(patch);
  absl::StatusOr<Json> review = api::ParseJson(body);
  if (!review.ok()) return "[]";  // cannot happen: the body was parsed once already
  Json& object = (*review)["request"]["object"];
  return Json::diff(object, written).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

ReviewOutcome Review(WebhookType type, const api::KindDescriptor& kind, std::string_view body,
                     const api::ValidationOptions& options, int max_json_depth) {
  // The depth is checked as the body is read, not in a pass of its own.
  absl::StatusOr<Json> parsed = api::ParseJson(body, max_json_depth);
  if (absl::IsOutOfRange(parsed.status())) {
    return BadRequest(absl::StrCat("request body nests JSON more than ", max_json_depth,
                                   " levels deep"));
  }
  if (!parsed.ok()) return BadRequest("request body is not valid JSON");
  Json review = *std::move(parsed);
  if (!review.is_object() || StringAt(review, "kind") != "AdmissionReview" ||
      StringAt(review, "apiVersion") != "admission.k8s.io/v1") {
    return BadRequest("expected an AdmissionReview of apiVersion admission.k8s.io/v1");
  }
  auto request_it = review.find("request");
  if (request_it == review.end() || !request_it->is_object()) {
    return BadRequest("AdmissionReview has no request");
  }
  // Not const: the job object is moved out of the parsed review instead of copied.
  Json& request = *request_it;
  std::string uid = StringAt(request, "uid");
  if (uid.empty()) return BadRequest("AdmissionReview request has no uid");
  std::string operation = StringAt(request, "operation");

  if (operation == "DELETE" || operation == "CONNECT") {
    return ReviewOutcome{200, "application/json", Envelope(Response(uid, true)).dump(),
                         ReviewResult::kAllowed, operation};
  }
  if (operation != "CREATE" && operation != "UPDATE") {
    return Deny(uid, operation, 400, "BadRequest",
                absl::StrCat("unsupported operation \"", operation, "\""));
  }
  auto object_it = request.find("object");
  if (object_it == request.end() || !object_it->is_object()) {
    return Deny(uid, operation, 400, "BadRequest", "AdmissionReview request has no object");
  }
  Json& object = *object_it;
  std::string object_kind = StringAt(object, "kind");
  std::string object_api_version = StringAt(object, "apiVersion");
  if (object_kind != kind.name || object_api_version != kind.api_version) {
    return Deny(uid, operation, 400, "BadRequest",
                absl::StrCat("this endpoint admits ", std::string(kind.api_version), " ",
                             std::string(kind.name), ", not \"", object_api_version, "\" \"",
                             object_kind, "\""));
  }
  // find, not value(): value() would copy the whole metadata, managedFields included.
  auto meta_it = object.find("metadata");
  std::string name = meta_it != object.end() ? StringAt(*meta_it, "name") : "";
  if (name.empty()) name = StringAt(request, "name");
  std::string group(kind.group);
  std::string kind_name(kind.name);

  // The job takes the parsed object over: the mutating webhook diffs against the body's text,
  // not against a second parsed copy (JsonPatchFromText).
  if (type == WebhookType::kMutate) request.erase("oldObject");
  api::FieldErrors type_errors;
  auto job = api::ParseJob(std::move(object), &type_errors);
  if (!job.ok()) {
    if (type_errors.empty()) {
      return Deny(uid, operation, 400, "BadRequest", std::string(job.status().message()));
    }
    return Deny(uid, operation, 400, "BadRequest",
                api::InvalidObjectMessage(kind_name, group, name, type_errors));
  }
  api::DefaultingResult defaulting = api::DefaultJob(*job);

  if (type == WebhookType::kMutate) {
    Json written = api::ToJson(*std::move(job));
    review = Json();  // what is left of the parsed review: the diff reads the body's text
    std::string patch = JsonPatchOf(body, written);
    written = Json();  // freed before the patch is encoded: a renamed replica type copies a template
    Json response = Response(uid, true);
    ReviewResult result = ReviewResult::kAllowed;
    if (patch != "[]") {
      response["patchType"] = "JSONPatch";
      std::string encoded = absl::Base64Escape(patch);
      patch = std::string();
      response["patch"] = std::move(encoded);
      result = ReviewResult::kPatched;
    }
    if (!defaulting.warnings.empty()) response["warnings"] = defaulting.warnings;
    return ReviewOutcome{200, "application/json", Envelope(std::move(response)).dump(), result,
                         operation};
  }

  std::optional<api::Job> old_job;
  if (operation == "UPDATE") {
    if (auto old_it = request.find("oldObject"); old_it != request.end() && old_it->is_object()) {
      auto parsed = api::ParseJob(std::move(*old_it));
      if (parsed.ok()) {
        old_job = *std::move(parsed);
        api::DefaultJob(*old_job);
      }
    }
  }
  api::FieldErrors errors = api::ValidateJob(*job, old_job ? &*old_job : nullptr, options);
  if (!errors.empty()) {
    return Deny(uid, operation, 422, "Invalid",
                api::InvalidObjectMessage(kind_name, group, name, errors));
  }
  return ReviewOutcome{200, "application/json", Envelope(Response(uid, true)).dump(),
                       ReviewResult::kAllowed, operation};
}

}  // namespace kubedl::webhook
