#pragma once

// Small read helpers over Kubernetes objects held as nlohmann::json. None of them throws: a
// missing or mistyped field reads as empty.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

#include "nlohmann/json.hpp"

namespace kubedl::kube {

using Object = nlohmann::json;
using Labels = std::vector<std::pair<std::string, std::string>>;

std::string Name(const Object& obj);
std::string Namespace(const Object& obj);
std::string Uid(const Object& obj);
std::string ResourceVersion(const Object& obj);
// "namespace/name", or "name" for cluster-scoped objects: the key of caches and work queues.
std::string ObjectKey(const Object& obj);
std::string ObjectKey(absl::string_view ns, absl::string_view name);
Labels GetLabels(const Object& obj);
// The uid of the ownerReference with controller: true, or "".
std::string ControllerUid(const Object& obj);
// metadata.deletionTimestamp is set: the object is on its way out (finalizers may hold it).
bool BeingDeleted(const Object& obj);

// Transform for informers: drops metadata.managedFields and the kubectl last-applied
// annotation, which most controllers never read and which dominate a pod's size.
void DropManagedFields(Object& obj);

}  // namespace kubedl::kube
