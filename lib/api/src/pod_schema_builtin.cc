// PodSchema::BuiltIn(): the schema used when the API server's own cannot be read (no API server
// configured, the fetch failed). Written for this project as a small OpenAPI v3 document in the
// shape the API server serves, and compiled by the same code: the fields where a wrong type is a
// common mistake, with the types, required fields and the enums that have not grown across
// Kubernetes versions (Toleration.operator, say, gained Gt and Lt). Everything not listed here
// is not checked, so this can miss mistakes but should never refuse a valid pod.
#include "glog/logging.h"
#include "kubedl/api/pod_schema.h"

namespace kubedl::api {
namespace {

// Conventions: "S" string, "I" int32, "L" int64, "B" boolean, "Q" quantity and "IS"
// int-or-string are shared leaves; "Strings" a list of strings, "StringMap" a map of strings.
constexpr const char* kBuiltInDocument = R"json({"components": {"schemas": {
  "S": {"type": "string"},
  "I": {"type": "integer", "format": "int32"},
  "L": {"type": "integer", "format": "int64"},
  "B": {"type": "boolean"},
  "IS": {"x-kubernetes-int-or-string": true},
  "Q": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"},
  "Strings": {"type": "array", "items": {"$ref": "#/components/schemas/S"}},
  "StringMap": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/S"}},
  "QuantityMap": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Q"}},
  "Object": {"type": "object"},

  "io.k8s.api.core.v1.PodTemplateSpec": {"type": "object", "properties": {
    "metadata": {"$ref": "#/components/schemas/ObjectMeta"},
    "spec": {"$ref": "#/components/schemas/PodSpec"}}},

  "ObjectMeta": {"type": "object", "properties": {
    "name": {"$ref": "#/components/schemas/S"},
    "generateName": {"$ref": "#/components/schemas/S"},
    "namespace": {"$ref": "#/components/schemas/S"},
    "labels": {"$ref": "#/components/schemas/StringMap"},
    "annotations": {"$ref": "#/components/schemas/StringMap"},
    "finalizers": {"$ref": "#/components/schemas/Strings"}}},

  "PodSpec": {"type": "object", "required": ["containers"], "properties": {
    "containers": {"type": "array", "items": {"$ref": "#/components/schemas/Container"}},
    "initContainers": {"type": "array", "items": {"$ref": "#/components/schemas/Container"}},
    "volumes": {"type": "array", "items": {"$ref": "#/components/schemas/Volume"}},
    "nodeSelector": {"$ref": "#/components/schemas/StringMap"},
    "nodeName": {"$ref": "#/components/schemas/S"},
    "tolerations": {"type": "array", "items": {"$ref": "#/components/schemas/Toleration"}},
    "affinity": {"$ref": "#/components/schemas/Affinity"},
    "restartPolicy": {"type": "string", "enum": ["Always", "OnFailure", "Never"]},
    "dnsPolicy": {"type": "string",
                  "enum": ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]},
    "serviceAccountName": {"$ref": "#/components/schemas/S"},
    "serviceAccount": {"$ref": "#/components/schemas/S"},
    "automountServiceAccountToken": {"$ref": "#/components/schemas/B"},
    "schedulerName": {"$ref": "#/components/schemas/S"},
    "priorityClassName": {"$ref": "#/components/schemas/S"},
    "priority": {"$ref": "#/components/schemas/I"},
    "hostNetwork": {"$ref": "#/components/schemas/B"},
    "hostPID": {"$ref": "#/components/schemas/B"},
    "hostIPC": {"$ref": "#/components/schemas/B"},
    "shareProcessNamespace": {"$ref": "#/components/schemas/B"},
    "hostname": {"$ref": "#/components/schemas/S"},
    "subdomain": {"$ref": "#/components/schemas/S"},
    "terminationGracePeriodSeconds": {"$ref": "#/components/schemas/L"},
    "activeDeadlineSeconds": {"$ref": "#/components/schemas/L"},
    "imagePullSecrets": {"type": "array", "items": {"$ref": "#/components/schemas/Object"}},
    "securityContext": {"$ref": "#/components/schemas/Object"},
    "runtimeClassName": {"$ref": "#/components/schemas/S"},
    "enableServiceLinks": {"$ref": "#/components/schemas/B"},
    "overhead": {"$ref": "#/components/schemas/QuantityMap"},
    "topologySpreadConstraints": {"type": "array", "items": {"type": "object",
      "required": ["maxSkew", "topologyKey", "whenUnsatisfiable"], "properties": {
        "maxSkew": {"$ref": "#/components/schemas/I"},
        "topologyKey": {"$ref": "#/components/schemas/S"},
        "whenUnsatisfiable": {"type": "string", "enum": ["DoNotSchedule", "ScheduleAnyway"]},
        "labelSelector": {"$ref": "#/components/schemas/LabelSelector"}}}}}},

  "Container": {"type": "object", "required": ["name"], "properties": {
    "name": {"$ref": "#/components/schemas/S"},
    "image": {"$ref": "#/components/schemas/S"},
    "command": {"$ref": "#/components/schemas/Strings"},
    "args": {"$ref": "#/components/schemas/Strings"},
    "workingDir": {"$ref": "#/components/schemas/S"},
    "ports": {"type": "array", "items": {"type": "object", "required": ["containerPort"],
      "properties": {
        "name": {"$ref": "#/components/schemas/S"},
        "containerPort": {"$ref": "#/components/schemas/I"},
        "hostPort": {"$ref": "#/components/schemas/I"},
        "hostIP": {"$ref": "#/components/schemas/S"},
        "protocol": {"type": "string", "enum": ["TCP", "UDP", "SCTP"]}}}},
    "env": {"type": "array", "items": {"$ref": "#/components/schemas/EnvVar"}},
    "envFrom": {"type": "array", "items": {"type": "object", "properties": {
      "prefix": {"$ref": "#/components/schemas/S"},
      "configMapRef": {"$ref": "#/components/schemas/OptionalRef"},
      "secretRef": {"$ref": "#/components/schemas/OptionalRef"}}}},
    "resources": {"type": "object", "properties": {
      "limits": {"$ref": "#/components/schemas/QuantityMap"},
      "requests": {"$ref": "#/components/schemas/QuantityMap"}}},
    "volumeMounts": {"type": "array", "items": {"type": "object",
      "required": ["name", "mountPath"], "properties": {
        "name": {"$ref": "#/components/schemas/S"},
        "mountPath": {"$ref": "#/components/schemas/S"},
        "subPath": {"$ref": "#/components/schemas/S"},
        "readOnly": {"$ref": "#/components/schemas/B"},
        "mountPropagation": {"type": "string",
                             "enum": ["None", "HostToContainer", "Bidirectional"]}}}},
    "imagePullPolicy": {"type": "string", "enum": ["Always", "IfNotPresent", "Never"]},
    "livenessProbe": {"$ref": "#/components/schemas/Probe"},
    "readinessProbe": {"$ref": "#/components/schemas/Probe"},
    "startupProbe": {"$ref": "#/components/schemas/Probe"},
    "lifecycle": {"$ref": "#/components/schemas/Object"},
    "securityContext": {"type": "object", "properties": {
      "privileged": {"$ref": "#/components/schemas/B"},
      "runAsUser": {"$ref": "#/components/schemas/L"},
      "runAsGroup": {"$ref": "#/components/schemas/L"},
      "runAsNonRoot": {"$ref": "#/components/schemas/B"},
      "readOnlyRootFilesystem": {"$ref": "#/components/schemas/B"},
      "allowPrivilegeEscalation": {"$ref": "#/components/schemas/B"},
      "capabilities": {"type": "object", "properties": {
        "add": {"$ref": "#/components/schemas/Strings"},
        "drop": {"$ref": "#/components/schemas/Strings"}}}}},
    "terminationMessagePath": {"$ref": "#/components/schemas/S"},
    "terminationMessagePolicy": {"type": "string", "enum": ["File", "FallbackToLogsOnError"]},
    "stdin": {"$ref": "#/components/schemas/B"},
    "tty": {"$ref": "#/components/schemas/B"}}},

  "EnvVar": {"type": "object", "required": ["name"], "properties": {
    "name": {"$ref": "#/components/schemas/S"},
    "value": {"$ref": "#/components/schemas/S"},
    "valueFrom": {"type": "object", "properties": {
      "fieldRef": {"type": "object", "required": ["fieldPath"], "properties": {
        "apiVersion": {"$ref": "#/components/schemas/S"},
        "fieldPath": {"$ref": "#/components/schemas/S"}}},
      "resourceFieldRef": {"type": "object", "required": ["resource"], "properties": {
        "containerName": {"$ref": "#/components/schemas/S"},
        "resource": {"$ref": "#/components/schemas/S"},
        "divisor": {"$ref": "#/components/schemas/Q"}}},
      "configMapKeyRef": {"$ref": "#/components/schemas/KeyRef"},
      "secretKeyRef": {"$ref": "#/components/schemas/KeyRef"}}}}},
  "KeyRef": {"type": "object", "required": ["key"], "properties": {
    "name": {"$ref": "#/components/schemas/S"},
    "key": {"$ref": "#/components/schemas/S"},
    "optional": {"$ref": "#/components/schemas/B"}}},
  "OptionalRef": {"type": "object", "properties": {
    "name": {"$ref": "#/components/schemas/S"},
    "optional": {"$ref": "#/components/schemas/B"}}},

  "Probe": {"type": "object", "properties": {
    "exec": {"type": "object", "properties": {"command": {"$ref": "#/components/schemas/Strings"}}},
    "httpGet": {"type": "object", "required": ["port"], "properties": {
      "path": {"$ref": "#/components/schemas/S"},
      "port": {"$ref": "#/components/schemas/IS"},
      "host": {"$ref": "#/components/schemas/S"},
      "scheme": {"type": "string", "enum": ["HTTP", "HTTPS"]}}},
    "tcpSocket": {"type": "object", "required": ["port"], "properties": {
      "port": {"$ref": "#/components/schemas/IS"},
      "host": {"$ref": "#/components/schemas/S"}}},
    "initialDelaySeconds": {"$ref": "#/components/schemas/I"},
    "timeoutSeconds": {"$ref": "#/components/schemas/I"},
    "periodSeconds": {"$ref": "#/components/schemas/I"},
    "successThreshold": {"$ref": "#/components/schemas/I"},
    "failureThreshold": {"$ref": "#/components/schemas/I"},
    "terminationGracePeriodSeconds": {"$ref": "#/components/schemas/L"}}},

  "Volume": {"type": "object", "required": ["name"], "properties": {
    "name": {"$ref": "#/components/schemas/S"},
    "emptyDir": {"type": "object", "properties": {
      "medium": {"$ref": "#/components/schemas/S"},
      "sizeLimit": {"$ref": "#/components/schemas/Q"}}},
    "hostPath": {"type": "object", "required": ["path"], "properties": {
      "path": {"$ref": "#/components/schemas/S"},
      "type": {"type": "string", "enum": ["", "DirectoryOrCreate", "Directory", "FileOrCreate",
                                          "File", "Socket", "CharDevice", "BlockDevice"]}}},
    "configMap": {"type": "object", "properties": {
      "name": {"$ref": "#/components/schemas/S"},
      "items": {"$ref": "#/components/schemas/KeyToPaths"},
      "defaultMode": {"$ref": "#/components/schemas/I"},
      "optional": {"$ref": "#/components/schemas/B"}}},
    "secret": {"type": "object", "properties": {
      "secretName": {"$ref": "#/components/schemas/S"},
      "items": {"$ref": "#/components/schemas/KeyToPaths"},
      "defaultMode": {"$ref": "#/components/schemas/I"},
      "optional": {"$ref": "#/components/schemas/B"}}},
    "persistentVolumeClaim": {"type": "object", "required": ["claimName"], "properties": {
      "claimName": {"$ref": "#/components/schemas/S"},
      "readOnly": {"$ref": "#/components/schemas/B"}}},
    "nfs": {"type": "object", "required": ["server", "path"], "properties": {
      "server": {"$ref": "#/components/schemas/S"},
      "path": {"$ref": "#/components/schemas/S"},
      "readOnly": {"$ref": "#/components/schemas/B"}}}}},
  "KeyToPaths": {"type": "array", "items": {"type": "object", "required": ["key", "path"],
    "properties": {
      "key": {"$ref": "#/components/schemas/S"},
      "path": {"$ref": "#/components/schemas/S"},
      "mode": {"$ref": "#/components/schemas/I"}}}},

  "Toleration": {"type": "object", "properties": {
    "key": {"$ref": "#/components/schemas/S"},
    "operator": {"$ref": "#/components/schemas/S"},
    "value": {"$ref": "#/components/schemas/S"},
    "effect": {"type": "string", "enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
    "tolerationSeconds": {"$ref": "#/components/schemas/L"}}},

  "Affinity": {"type": "object", "properties": {
    "nodeAffinity": {"type": "object", "properties": {
      "requiredDuringSchedulingIgnoredDuringExecution": {"type": "object",
        "required": ["nodeSelectorTerms"], "properties": {
          "nodeSelectorTerms": {"type": "array",
                                "items": {"$ref": "#/components/schemas/NodeSelectorTerm"}}}},
      "preferredDuringSchedulingIgnoredDuringExecution": {"type": "array", "items": {
        "type": "object", "required": ["weight", "preference"], "properties": {
          "weight": {"$ref": "#/components/schemas/I"},
          "preference": {"$ref": "#/components/schemas/NodeSelectorTerm"}}}}}},
    "podAffinity": {"$ref": "#/components/schemas/PodAffinity"},
    "podAntiAffinity": {"$ref": "#/components/schemas/PodAffinity"}}},
  "NodeSelectorTerm": {"type": "object", "properties": {
    "matchExpressions": {"$ref": "#/components/schemas/NodeSelectorRequirements"},
    "matchFields": {"$ref": "#/components/schemas/NodeSelectorRequirements"}}},
  "NodeSelectorRequirements": {"type": "array", "items": {"type": "object",
    "required": ["key", "operator"], "properties": {
      "key": {"$ref": "#/components/schemas/S"},
      "operator": {"type": "string",
                   "enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]},
      "values": {"$ref": "#/components/schemas/Strings"}}}},
  "PodAffinity": {"type": "object", "properties": {
    "requiredDuringSchedulingIgnoredDuringExecution": {"type": "array",
      "items": {"$ref": "#/components/schemas/PodAffinityTerm"}},
    "preferredDuringSchedulingIgnoredDuringExecution": {"type": "array", "items": {
      "type": "object", "required": ["weight", "podAffinityTerm"], "properties": {
        "weight": {"$ref": "#/components/schemas/I"},
        "podAffinityTerm": {"$ref": "#/components/schemas/PodAffinityTerm"}}}}}},
  "PodAffinityTerm": {"type": "object", "required": ["topologyKey"], "properties": {
    "labelSelector": {"$ref": "#/components/schemas/LabelSelector"},
    "namespaces": {"$ref": "#/components/schemas/Strings"},
    "topologyKey": {"$ref": "#/components/schemas/S"}}},
  "LabelSelector": {"type": "object", "properties": {
    "matchLabels": {"$ref": "#/components/schemas/StringMap"},
    "matchExpressions": {"type": "array", "items": {"type": "object",
      "required": ["key", "operator"], "properties": {
        "key": {"$ref": "#/components/schemas/S"},
        "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
        "values": {"$ref": "#/components/schemas/Strings"}}}}}}
}}})json";

}  // namespace

std::shared_ptr<const PodSchema> PodSchema::BuiltIn() {
  static const std::shared_ptr<const PodSchema> schema = [] {
    auto compiled = FromOpenApiV3(Json::parse(kBuiltInDocument), "built-in");
    CHECK(compiled.ok()) << "the built-in pod schema does not compile: " << compiled.status();
    return *std::move(compiled);
  }();
  return schema;
}

}  // namespace kubedl::api
