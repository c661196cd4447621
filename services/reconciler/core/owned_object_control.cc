#include "core/owned_object_control.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/pod_builder.h"
#include "core/pod_identity.h"
#include "glog/logging.h"
#include "kubedl/common/json_access.h"
#include "kubedl/common/string_view.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/quantity.h"

namespace kubedl::reconciler {

using kube::Object;

namespace {

// The API server stores a quantity in its canonical form ("1000m" as "1", a number as a
// string): the same amount counts as held, or an HPA's metrics would be rewritten every pass.
bool SameQuantity(const api::Json& existing, const api::Json& wanted) {
  auto text = [](const api::Json& v) -> std::optional<std::string> {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    return std::nullopt;
  };
  if (!existing.is_string()) return false;  // the server writes quantities as strings
  const std::optional<std::string> a = text(existing), b = text(wanted);
  if (!a || !b) return false;
  auto qa = kube::Quantity::Parse(*a);
  auto qb = kube::Quantity::Parse(*b);
  return qa.ok() && qb.ok() && *qa == *qb;
}

std::string NameOf(const OwnedObject& object) {
  const api::Json* metadata = common::Member(object.body, "metadata");
  return metadata != nullptr ? common::StringOr(*metadata, "name") : "";
}

}  // namespace

bool HoldsEverything(const api::Json& existing, const api::Json& wanted) {
  if (wanted.is_object()) {
    if (!existing.is_object()) return false;
    return std::ranges::all_of(wanted.items(), [&](const auto& item) {
      auto it = existing.find(item.key());
      return it != existing.end() && HoldsEverything(*it, item.value());
    });
  }
  if (wanted.is_array()) {
    if (!existing.is_array() || existing.size() != wanted.size()) return false;
    for (size_t i = 0; i < wanted.size(); ++i) {
      if (!HoldsEverything(existing[i], wanted[i])) return false;
    }
    return true;
  }
  return existing == wanted || SameQuantity(existing, wanted);
}

OwnedObjectControl::OwnedObjectControl(kube::Client& client, kube::EventRecorder& events,
                                       const std::string& key, const api::Job& job,
                                       const Object& job_object)
    : client_(client), events_(events), key_(key), job_(job), object_(job_object) {}

// What the job's object must hold of what the plug-in wants: its content, labels and
// annotations. The owner reference is ours already (only objects the job controls get here), and
// others may add owners, labels and annotations of their own.
bool OwnedObjectControl::Holds(const Object& existing, const Object& wanted) {
  for (const auto& [k, v] : wanted.items()) {
    if (k == "metadata") continue;
    auto it = existing.find(k);
    if (it == existing.end() || !HoldsEverything(*it, v)) return false;
  }
  const Object* metadata = common::Member(existing, "metadata");
  for (const char* map : {"labels", "annotations"}) {
    auto it = wanted["metadata"].find(map);
    if (it == wanted["metadata"].end()) continue;
    const Object* have = metadata != nullptr ? common::Member(*metadata, map) : nullptr;
    if (have == nullptr || !HoldsEverything(*have, *it)) return false;
  }
  return true;
}

Object OwnedObjectControl::Complete(const OwnedObject& desired) const {
  Object body = Object(desired.body);
  Object& metadata = body["metadata"];
  metadata["namespace"] = job_.namespace_;
  for (const auto& [k, v] : JobLabels(job_.kind, job_.name)) metadata["labels"][k] = v;
  metadata["ownerReferences"] = Object::array({ControllerReference(job_)});
  return body;
}

bool OwnedObjectControl::Sync(const std::vector<kube::ResourceRef>& resources,
                              const std::vector<OwnedObject>& desired) {
  if (resources.empty()) return true;
  kube::ListOptions options;
  options.label_selector = absl::StrCat(A(kLabelOperatorName), "=", OperatorName(job_.kind), ",",
                                        A(kLabelJobName), "=", job_.name);
  bool ok = true;
  for (const kube::ResourceRef& resource : resources) {
    auto listed = client_.List(resource, job_.namespace_, options);
    if (!listed.ok()) {
      LOG(WARNING) << key_ << ": listing the job's " << resource.resource << ": "
                   << listed.status();
      ok = false;
      continue;
    }
    std::vector<const OwnedObject*> wanted;
    for (const OwnedObject& d : desired) {
      if (d.resource.group == resource.group && d.resource.resource == resource.resource) {
        wanted.push_back(&d);
      }
    }
    ok &= Reconcile(resource, listed->items, wanted);
  }
  return ok;
}

bool OwnedObjectControl::Reconcile(const kube::ResourceRef& resource,
                                   const std::vector<Object>& existing,
                                   const std::vector<const OwnedObject*>& desired) {
  bool ok = true;
  for (const OwnedObject* d : desired) {
    const std::string name = NameOf(*d);
    auto it = std::ranges::find_if(existing, [&](const Object& o) { return kube::Name(o) == name; });
    ok &= CreateOrUpdate(resource, it == existing.end() ? nullptr : &*it, *d);
  }
  for (const Object& o : existing) {
    if (kube::ControllerUid(o) != job_.uid) continue;
    const bool wanted = std::ranges::any_of(desired, [&](const OwnedObject* d) {
      return NameOf(*d) == kube::Name(o);
    });
    if (wanted) continue;
    kube::DeleteOptions options;
    options.precondition_uid = kube::Uid(o);
    absl::Status s = client_.Delete(resource, job_.namespace_, kube::Name(o), options);
    if (!s.ok() && !kube::IsNotFound(s) && !kube::IsConflict(s)) {
      LOG(WARNING) << key_ << ": deleting " << resource.resource << "/" << kube::Name(o) << ": "
                   << s;
      ok = false;
    }
  }
  return ok;
}

bool OwnedObjectControl::CreateOrUpdate(const kube::ResourceRef& resource, const Object* existing,
                                        const OwnedObject& desired) {
  const Object wanted = Complete(desired);
  const std::string name = kube::Name(wanted);
  const std::string what = absl::StrCat(resource.resource, "/", name);
  absl::StatusOr<Object> written = absl::UnknownError("not written");
  std::optional<Object> unlisted;
  if (existing == nullptr) {
    written = client_.Create(resource, job_.namespace_, wanted);
    if (written.ok()) {
      events_.Record(object_, "Normal", "SuccessfulCreateObject", absl::StrCat("Created ", what));
      return true;
    }
    if (!kube::IsAlreadyExists(written.status())) return Failed(what, written.status());
    if (desired.use_existing) return true;
    // The name is taken by an object without the job's labels (the list showed only labelled
    // ones): look at it as at a listed one.
    auto fetched = client_.Get(resource, job_.namespace_, name);
    if (!fetched.ok()) return kube::IsNotFound(fetched.status()) ? false : Failed(what, fetched.status());
    unlisted = std::move(*fetched);
    existing = &*unlisted;
  }
  if (desired.use_existing) return true;
  if (kube::ControllerUid(*existing) != job_.uid) {
    events_.Record(object_, "Warning", "ObjectNameTaken",
                   absl::StrCat(what, " exists and is not controlled by this job; it is left as it is"));
    return true;  // retrying cannot help until someone removes it
  }
  if (Holds(*existing, wanted)) return true;
  Object updated = *existing;
  for (const auto& [k, v] : wanted.items()) {
    if (k != "metadata") updated[k] = v;
  }
  for (const char* map : {"labels", "annotations"}) {
    auto it = wanted["metadata"].find(map);
    if (it == wanted["metadata"].end()) continue;
    for (const auto& [k, v] : it->items()) updated["metadata"][map][k] = v;
  }
  written = client_.Update(resource, job_.namespace_, updated);
  if (written.ok()) {
    events_.Record(object_, "Normal", "SuccessfulUpdateObject", absl::StrCat("Updated ", what));
    return true;
  }
  if (kube::IsConflict(written.status())) return false;  // changed since read: next pass
  return Failed(what, written.status());
}

bool OwnedObjectControl::Failed(const std::string& what, const absl::Status& status) {
  events_.Record(object_, "Warning", "FailedSyncObject",
                 absl::StrCat("Error writing ", what, ": ", status.message()));
  return false;
}

}  // namespace kubedl::reconciler
