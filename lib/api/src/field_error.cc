#include "kubedl/api/field_error.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kubedl::api {

std::string FieldError::ToString() const {
  std::string out = path + ": ";
  switch (type) {
    case Type::kRequired:
      out += "Required value";
      break;
    case Type::kInvalid:
      out += "Invalid value: " + value.dump();
      break;
    case Type::kNotSupported:
      out += "Unsupported value: " + value.dump();
      break;
    case Type::kForbidden:
      out += "Forbidden";
      break;
    case Type::kDuplicate:
      out += "Duplicate value: " + value.dump();
      break;
  }
  if (!detail.empty()) out += ": " + detail;
  return out;
}

FieldError Required(std::string path, std::string detail) {
  return {FieldError::Type::kRequired, std::move(path), nullptr, std::move(detail)};
}

FieldError Invalid(std::string path, Json value, std::string detail) {
  return {FieldError::Type::kInvalid, std::move(path), std::move(value), std::move(detail)};
}

FieldError NotSupported(std::string path, Json value, const std::vector<std::string>& supported) {
  std::vector<std::string> quoted;
  for (const auto& s : supported) quoted.push_back(Json(s).dump());
  return {FieldError::Type::kNotSupported, std::move(path), std::move(value),
          "supported values: " + absl::StrJoin(quoted, ", ")};
}

FieldError Forbidden(std::string path, std::string detail) {
  return {FieldError::Type::kForbidden, std::move(path), nullptr, std::move(detail)};
}

FieldError Duplicate(std::string path, Json value) {
  return {FieldError::Type::kDuplicate, std::move(path), std::move(value), ""};
}

std::string InvalidObjectMessage(std::string_view kind, std::string_view group,
                                 std::string_view name, const FieldErrors& errors) {
  std::vector<std::string> parts;
  for (const auto& e : errors) parts.push_back(e.ToString());
  std::string list = parts.size() == 1 ? parts[0] : "[" + absl::StrJoin(parts, ", ") + "]";
  return absl::StrCat(std::string(kind), ".", std::string(group), " \"", std::string(name),
                      "\" is invalid: ", list);
}

}  // namespace kubedl::api
