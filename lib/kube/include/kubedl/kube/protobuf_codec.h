#pragma once

// Kubernetes' protobuf encoding of the core/v1 kinds (Pod, Service, Event, ...), the wire format
// client-go's clients use for built-in kinds. The API server decodes it and skips encoding a JSON
// answer when asked for protobuf: under a burst of pod creates that is about a quarter of its CPU.
// Objects stay JSON everywhere else in the project; this converts at the edge, driven by the
// schema of the pinned Kubernetes version (cmake/KubernetesProtos.cmake).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kubedl/kube/object.h"

namespace kubedl::kube {

inline constexpr char kProtobufContentType[] = "application/vnd.kubernetes.protobuf";

// True when `body` starts with the envelope's magic bytes ("k8s\0").
bool IsProtobufEnvelope(absl::string_view body);

// The envelope of `object`, a core/v1 kind (or a v1 meta kind such as Status) as JSON, with
// apiVersion "v1" and kind set.
// InvalidArgument, naming the field path, when the object holds anything the schema cannot carry
// exactly (a field the schema lacks, a value of another type): the caller then sends JSON, so
// nothing is lost and the server's answer names the real problem.
absl::StatusOr<std::string> EncodeProtobuf(const Object& object);

// The JSON of an envelope the API server wrote (an object of a core/v1 kind, or a Status), with
// apiVersion and kind. Fields the server wrote as empty values (protobuf keeps them) stay.
// DataLoss when the bytes are not such an envelope.
absl::StatusOr<Object> DecodeProtobuf(absl::string_view body);

}  // namespace kubedl::kube
