#pragma once
// The shape of a core/v1 PodTemplateSpec (types, required fields, enum values), compiled once
// into a compact tree, so the webhook can refuse a job template the API server would refuse as a
// pod (`containerPort: "2222"`, an env that is not a list, ...) with the field's path, instead of
// the job sitting with FailedCreatePod events.
//
//   auto schema = PodSchema::FromOpenApiV3(served_document);  // GET /openapi/v3/api/v1
//   FieldErrors errors;
//   (*schema)->Check(replica.spec.template_spec, "spec.tfReplicaSpecs[Worker].template", &errors);
//
// What is checked (docs/webhook.md): JSON types (object, map, array, string, integer, number,
// boolean, int-or-string, quantity), int32 ranges, fields the schema marks required, enum values.
// Unknown fields are not errors (the API server drops them with a warning); `null` counts as
// absent (it decodes to the zero value); "" is accepted for enum fields (empty means the
// default); the fields the reconciler overwrites (template metadata.name, .namespace,
// .ownerReferences and spec.restartPolicy) are not checked.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kubedl/api/field_error.h"
#include "kubedl/api/json.h"

namespace kubedl::api {

class PodSchema {
 public:
  // Reports at most this many errors per Check call: a huge bad template gives a short message.
  static constexpr size_t kMaxErrorsPerTemplate = 20;

  // Compiles `components.schemas` of an OpenAPI v3 document (the API server's
  // /openapi/v3/api/v1), starting at io.k8s.api.core.v1.PodTemplateSpec. $ref and single-element
  // allOf are resolved here, once. InvalidArgument when the document has no PodTemplateSpec.
  // `origin` names where the document came from, for logs.
  static absl::StatusOr<std::shared_ptr<const PodSchema>> FromOpenApiV3(
      const Json& document, std::string origin = "openapi-v3");
  static absl::StatusOr<std::shared_ptr<const PodSchema>> FromOpenApiV3(
      const nlohmann::json& document, std::string origin = "openapi-v3");

  // The fallback written into the project: the fields that matter most (metadata labels and
  // annotations; containers and init containers with their ports, env, resources, mounts,
  // probes; volumes; nodeSelector, tolerations, affinity, ...). Compiled once, shared.
  static std::shared_ptr<const PodSchema> BuiltIn();

  // Adds one FieldError per wrong field of `pod_template` (a PodTemplateSpec), with paths under
  // `path` ("spec.tfReplicaSpecs[Worker].template"). Reads the template in place; allocates only
  // to report an error.
  void Check(const Json& pod_template, std::string_view path, FieldErrors* errors) const;

  // "built-in", "openapi-v3" or what FromOpenApiV3 was given (for logs).
  const std::string& origin() const { return origin_; }
  // Nodes of the compiled tree (for logs and tests).
  size_t size() const { return nodes_.size(); }

  // Internal representation, public so the compiler and checker in pod_schema.cc can name it.
  enum class Type : uint8_t {
    kAny,          // not checked (unknown shape, preserve-unknown-fields, oneOf, ...)
    kObject,       // fixed properties, and/or a map (additionalProperties)
    kArray,
    kString,
    kInteger,
    kNumber,
    kBoolean,
    kIntOrString,  // x-kubernetes-int-or-string, intstr.IntOrString
    kQuantity,     // resource.Quantity: a quantity string or a number
  };
  static constexpr uint32_t kNoNode = UINT32_MAX;
  struct Property {
    std::string name;
    uint32_t node = kNoNode;
    int8_t required_bit = -1;  // index among the object's required properties (< 64), or -1
    bool skipped = false;      // overwritten by the reconciler: not checked
  };
  struct Node {
    Type type = Type::kAny;
    bool int32 = false;               // kInteger with format int32
    uint32_t element = kNoNode;       // kArray items; kObject map values (additionalProperties)
    uint32_t first_property = 0;      // kObject: properties_[first, first + count), by name
    uint32_t property_count = 0;
    uint32_t first_enum = 0;          // kString: enums_[first, first + count)
    uint32_t enum_count = 0;
    uint64_t required_mask = 0;       // kObject: bits of its required properties
  };

  PodSchema(std::string origin, std::vector<Node> nodes, std::vector<Property> properties,
            std::vector<std::string> enums, uint32_t root);

 private:
  friend class PodSchemaChecker;
  std::string origin_;
  std::vector<Node> nodes_;
  std::vector<Property> properties_;
  std::vector<std::string> enums_;
  uint32_t root_;
};

}  // namespace kubedl::api
