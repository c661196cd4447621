#include "kubedl/kube/resource.h"

#include "absl/strings/str_cat.h"

namespace kubedl::kube {

std::string ResourceRef::ApiVersion() const {
  return group.empty() ? version : absl::StrCat(group, "/", version);
}

std::string ResourceRef::CollectionPath(absl::string_view ns) const {
  std::string path = group.empty() ? absl::StrCat("/api/", version)
                                   : absl::StrCat("/apis/", group, "/", version);
  // Names come from jobs and peers: escaped, a "/" or "?" in one cannot reach another path.
  if (namespaced && !ns.empty()) absl::StrAppend(&path, "/namespaces/", UrlEncode(ns));
  absl::StrAppend(&path, "/", resource);
  return path;
}

std::string ResourceRef::ObjectPath(absl::string_view ns, absl::string_view name,
                                    absl::string_view subresource) const {
  std::string path = absl::StrCat(CollectionPath(ns), "/", UrlEncode(name));
  if (!subresource.empty()) absl::StrAppend(&path, "/", subresource);
  return path;
}

namespace resources {
const ResourceRef& Pods() { static const ResourceRef r{"", "v1", "pods", true}; return r; }
const ResourceRef& Services() {
  static const ResourceRef r{"", "v1", "services", true};
  return r;
}
const ResourceRef& ConfigMaps() {
  static const ResourceRef r{"", "v1", "configmaps", true};
  return r;
}
const ResourceRef& Namespaces() {
  static const ResourceRef r{"", "v1", "namespaces", false};
  return r;
}
const ResourceRef& Events() { static const ResourceRef r{"", "v1", "events", true}; return r; }
const ResourceRef& EventsV1() {
  static const ResourceRef r{"events.k8s.io", "v1", "events", true};
  return r;
}
const ResourceRef& Leases() {
  static const ResourceRef r{"coordination.k8s.io", "v1", "leases", true};
  return r;
}
const ResourceRef& CustomResourceDefinitions() {
  static const ResourceRef r{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
  return r;
}
}  // namespace resources

std::string UrlEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace kubedl::kube
