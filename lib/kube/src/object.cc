#include "kubedl/kube/object.h"

#include "absl/strings/str_cat.h"

namespace kubedl::kube {
namespace {

const Object* Metadata(const Object& obj) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? &*it : nullptr;
}

std::string MetaString(const Object& obj, const char* key) {
  const Object* m = Metadata(obj);
  if (!m) return {};
  auto it = m->find(key);
  return it != m->end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string Name(const Object& obj) { return MetaString(obj, "name"); }
std::string Namespace(const Object& obj) { return MetaString(obj, "namespace"); }
std::string Uid(const Object& obj) { return MetaString(obj, "uid"); }
std::string ResourceVersion(const Object& obj) { return MetaString(obj, "resourceVersion"); }

std::string ObjectKey(absl::string_view ns, absl::string_view name) {
  return ns.empty() ? std::string(name) : absl::StrCat(ns, "/", name);
}
std::string ObjectKey(const Object& obj) { return ObjectKey(Namespace(obj), Name(obj)); }

Labels GetLabels(const Object& obj) {
  Labels out;
  const Object* m = Metadata(obj);
  if (!m) return out;
  auto it = m->find("labels");
  if (it == m->end() || !it->is_object()) return out;
  for (auto& [k, v] : it->items()) {
    if (v.is_string()) out.emplace_back(k, v.get<std::string>());
  }
  return out;
}

bool BeingDeleted(const Object& obj) {
  const Object* m = Metadata(obj);
  if (!m) return false;
  auto it = m->find("deletionTimestamp");
  return it != m->end() && !it->is_null();
}

std::string ControllerUid(const Object& obj) {
  const Object* m = Metadata(obj);
  if (!m) return {};
  auto it = m->find("ownerReferences");
  if (it == m->end() || !it->is_array()) return {};
  for (const auto& ref : *it) {
    if (!ref.is_object()) continue;
    auto c = ref.find("controller");
    auto u = ref.find("uid");
    if (c != ref.end() && c->is_boolean() && c->get<bool>() && u != ref.end() && u->is_string())
      return u->get<std::string>();
  }
  return {};
}

void DropManagedFields(Object& obj) {
  if (!obj.is_object()) return;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return;
  m->erase("managedFields");
  auto a = m->find("annotations");
  if (a != m->end() && a->is_object()) {
    a->erase("kubectl.kubernetes.io/last-applied-configuration");
    if (a->empty()) m->erase(a);
  }
}

}  // namespace kubedl::kube
