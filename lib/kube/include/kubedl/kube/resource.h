#pragma once

// Addressing a resource of the Kubernetes API: group/version/resource plus whether it lives in
// a namespace. The core group "" is served under /api/v1, every other group under /apis/g/v.

#include <string>
#include "absl/strings/string_view.h"

namespace kubedl::kube {

struct ResourceRef {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "pods"
  bool namespaced = true;

  // "v1" for core, else "group/version": the apiVersion of objects of this resource.
  std::string ApiVersion() const;
  // /api/v1/namespaces/ns/pods, or /api/v1/pods when `ns` is empty (all namespaces) or the
  // resource is cluster-scoped.
  std::string CollectionPath(absl::string_view ns) const;
  // CollectionPath(ns) + "/" + name [+ "/" + subresource]; ns and name are percent-encoded.
  std::string ObjectPath(absl::string_view ns, absl::string_view name,
                         absl::string_view subresource = "") const;
};

// The resources the operator uses most.
namespace resources {
const ResourceRef& Pods();
const ResourceRef& Services();
const ResourceRef& ConfigMaps();
const ResourceRef& Namespaces();
const ResourceRef& Events();          // core/v1 Events
const ResourceRef& EventsV1();        // events.k8s.io/v1 Events
const ResourceRef& Leases();          // coordination.k8s.io/v1
const ResourceRef& CustomResourceDefinitions();  // apiextensions.k8s.io/v1
}  // namespace resources

// Percent-encodes a query parameter value (label and field selectors, continue tokens) or a path
// segment (namespaces and names in CollectionPath and ObjectPath).
std::string UrlEncode(absl::string_view value);

}  // namespace kubedl::kube
