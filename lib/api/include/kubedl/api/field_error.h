#pragma once
// A problem with one field, worded the way the Kubernetes API server words its own:
//   spec.tfReplicaSpecs[Worker].template.spec.containers[0].image: Required value
//   spec.tfReplicaSpecs[Worker].replicas: Invalid value: -1: must be greater than or equal to 0
#include <string>
#include <string_view>
#include <vector>

#include "kubedl/api/json.h"

namespace kubedl::api {

struct FieldError {
  enum class Type { kRequired, kInvalid, kNotSupported, kForbidden, kDuplicate };
  Type type;
  std::string path;    // "spec.tfReplicaSpecs[Worker].replicas"
  Json value;          // the offending value (kInvalid, kNotSupported, kDuplicate)
  std::string detail;  // what is wrong, or the supported values

  // "<path>: <what is wrong>".
  std::string ToString() const;
};

FieldError Required(std::string path, std::string detail = "");
FieldError Invalid(std::string path, Json value, std::string detail);
FieldError NotSupported(std::string path, Json value, const std::vector<std::string>& supported);
FieldError Forbidden(std::string path, std::string detail);
FieldError Duplicate(std::string path, Json value);

using FieldErrors = std::vector<FieldError>;

// `<Kind>.<group> "<name>" is invalid: [e1, e2]` (one error: no brackets), as the API server
// reports a failed validation.
std::string InvalidObjectMessage(std::string_view kind, std::string_view group,
                                 std::string_view name, const FieldErrors& errors);

}  // namespace kubedl::api
