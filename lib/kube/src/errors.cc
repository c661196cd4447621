#include "kubedl/kube/errors.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace kubedl::kube {
namespace {

using nlohmann::json;

std::string ReasonForCode(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return code >= 500 ? "InternalError" : "Unknown";
  }
}

// The absl code is chosen by what the caller should do next.
absl::StatusCode CodeFor(int http_code, absl::string_view reason) {
  if (reason == "AlreadyExists") return absl::StatusCode::kAlreadyExists;
  if (reason == "Conflict") return absl::StatusCode::kAborted;  // re-read, re-apply, retry
  if (reason == "NotFound") return absl::StatusCode::kNotFound;
  if (reason == "Expired" || reason == "Gone") return absl::StatusCode::kOutOfRange;  // relist
  if (reason == "Invalid" || reason == "BadRequest") return absl::StatusCode::kInvalidArgument;
  if (reason == "Unauthorized") return absl::StatusCode::kUnauthenticated;
  if (reason == "Forbidden") return absl::StatusCode::kPermissionDenied;
  if (reason == "TooManyRequests") return absl::StatusCode::kResourceExhausted;
  if (reason == "Timeout" || reason == "ServerTimeout") return absl::StatusCode::kUnavailable;
  if (reason == "ServiceUnavailable") return absl::StatusCode::kUnavailable;
  if (reason == "MethodNotAllowed" || reason == "NotAcceptable" ||
      reason == "UnsupportedMediaType")
    return absl::StatusCode::kUnimplemented;
  switch (http_code) {
    case 409: return absl::StatusCode::kAborted;
    case 410: return absl::StatusCode::kOutOfRange;
    case 503:
    case 504: return absl::StatusCode::kUnavailable;
    default:
      if (http_code >= 500) return absl::StatusCode::kInternal;
      if (http_code >= 400) return absl::StatusCode::kFailedPrecondition;
      return absl::StatusCode::kUnknown;
  }
}

absl::Status Build(int http_code, std::string reason, std::string message,
                   const json& causes) {
  if (reason.empty()) reason = ReasonForCode(http_code);
  if (message.empty()) message = absl::StrCat("the server answered HTTP ", http_code);
  absl::Status status(CodeFor(http_code, reason), message);
  json payload = {{"code", http_code}, {"reason", reason}};
  if (causes.is_array() && !causes.empty()) payload["causes"] = causes;
  status.SetPayload(kStatusPayloadUrl, absl::Cord(payload.dump()));
  return status;
}

std::string StringField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json Payload(const absl::Status& status) {
  auto cord = status.GetPayload(kStatusPayloadUrl);
  if (!cord) return json();
  return json::parse(std::string(*cord), nullptr, false);
}

}  // namespace

absl::Status StatusFromResponse(int http_code, absl::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object() && StringField(j, "kind") == "Status") {
    json causes;
    if (auto d = j.find("details"); d != j.end() && d->is_object()) {
      if (auto c = d->find("causes"); c != d->end()) causes = *c;
    }
    return Build(http_code, StringField(j, "reason"), StringField(j, "message"), causes);
  }
  std::string message(body.substr(0, 512));
  return Build(http_code, "", message, json());
}

absl::Status StatusFromStatusObject(absl::string_view status_json) {
  json j = json::parse(status_json, nullptr, false);
  int code = 500;
  if (j.is_object()) {
    if (auto c = j.find("code"); c != j.end() && c->is_number_integer()) code = c->get<int>();
  }
  return StatusFromResponse(code, status_json);
}

absl::Status MakeApiError(int http_code, absl::string_view reason, absl::string_view message,
                          std::vector<StatusCause> causes) {
  json c = json::array();
  for (auto& cause : causes) {
    c.push_back({{"reason", cause.type}, {"message", cause.message}, {"field", cause.field}});
  }
  return Build(http_code, std::string(reason), std::string(message), c);
}

std::string Reason(const absl::Status& status) {
  json p = Payload(status);
  return p.is_object() ? StringField(p, "reason") : std::string();
}

int HttpCode(const absl::Status& status) {
  json p = Payload(status);
  if (!p.is_object()) return 0;
  auto c = p.find("code");
  return c != p.end() && c->is_number_integer() ? c->get<int>() : 0;
}

std::vector<StatusCause> Causes(const absl::Status& status) {
  std::vector<StatusCause> out;
  json p = Payload(status);
  if (!p.is_object()) return out;
  auto c = p.find("causes");
  if (c == p.end() || !c->is_array()) return out;
  for (const auto& item : *c) {
    if (!item.is_object()) continue;
    out.push_back({StringField(item, "reason"), StringField(item, "message"),
                   StringField(item, "field")});
  }
  return out;
}

bool IsNotFound(const absl::Status& s) { return Reason(s) == "NotFound"; }
bool IsAlreadyExists(const absl::Status& s) { return Reason(s) == "AlreadyExists"; }
bool IsConflict(const absl::Status& s) { return Reason(s) == "Conflict"; }
bool IsGone(const absl::Status& s) {
  std::string r = Reason(s);
  return r == "Gone" || r == "Expired" || HttpCode(s) == 410;
}
bool IsInvalid(const absl::Status& s) { return Reason(s) == "Invalid"; }
bool IsBadRequest(const absl::Status& s) { return Reason(s) == "BadRequest"; }
bool IsForbidden(const absl::Status& s) { return Reason(s) == "Forbidden"; }
bool IsUnauthorized(const absl::Status& s) { return Reason(s) == "Unauthorized"; }
bool IsTooManyRequests(const absl::Status& s) {
  return Reason(s) == "TooManyRequests" || HttpCode(s) == 429;
}
bool IsUnsupportedMediaType(const absl::Status& s) {
  return Reason(s) == "UnsupportedMediaType" || HttpCode(s) == 415;
}
bool IsServerUnavailable(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kUnavailable) return true;
  int code = HttpCode(s);
  return code == 503 || code == 504;
}

}  // namespace kubedl::kube
