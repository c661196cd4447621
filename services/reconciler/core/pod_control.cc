#include "core/pod_control.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "core/replica_observer.h"
#include "core/slow_start.h"
#include "glog/logging.h"
#include "kubedl/common/error_barrier.h"
#include "kubedl/common/string_view.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/resource.h"

namespace kubedl::reconciler {
namespace {

using kube::Object;

// The largest slow-start batch of creates one pass sends at once.
constexpr size_t kMaxCreateBatch = 32;
// What the planned objects of one batch may add up to, in JSON text: a job of 1 MB gets
// batches of 4, and a pass holds a bounded multiple of its job's size however many replicas
// it has (a 3,000-replica TFJob: batches of 10).
constexpr size_t kCreateBatchBytes = size_t{4} << 20;

}  // namespace

// A pod or service this pass is about to create.
struct PodControl::PlannedCreate {
  bool is_pod = true;
  std::string name;
  Object body;
  bool sent = false;
  absl::Status result = absl::UnknownError("not sent");
  std::string ExpectationName() const { return is_pod ? name : absl::StrCat("svc/", name); }
};

PodControl::PodControl(const PodControlDeps& deps, const std::string& job_key,
                       const api::Job& job, const Object& job_object)
    : deps_(deps), key_(job_key), job_(job), object_(job_object) {}

OwnedObjects PodControl::ObserveOwned() {
  OwnedObjects owned;
  for (Object& pod : deps_.pods->ByIndex(kube::kIndexControllerUid, job_.uid)) {
    if (kube::BeingDeleted(pod)) {
      deps_.expectations->DeleteObserved(key_, kube::Uid(pod));
      continue;
    }
    owned.pods.push_back(std::move(pod));
  }
  owned.services = deps_.services->ByIndex(kube::kIndexControllerUid, job_.uid);
  Adopt(*deps_.pods, kube::resources::Pods(), owned.pods);
  Adopt(*deps_.services, kube::resources::Services(), owned.services);
  return owned;
}

// Pods and services that carry the job's labels but have no controller become the job's.
void PodControl::Adopt(const kube::ObjectCache& cache, const kube::ResourceRef& ref,
                       std::vector<Object>& owned) {
  for (Object& obj :
       cache.ByIndex(kIndexOrphanOfJob, OrphanOfJobKey(job_.kind, job_.namespace_, job_.name))) {
    if (!kube::ControllerUid(obj).empty() || kube::BeingDeleted(obj)) continue;
    Object refs = Object::array();
    if (obj["metadata"].contains("ownerReferences")) refs = obj["metadata"]["ownerReferences"];
    refs.push_back(ControllerReference(job_));
    Object patch = {{"metadata",
                     {{"ownerReferences", refs}, {"uid", kube::Uid(obj)},
                      {"resourceVersion", kube::ResourceVersion(obj)}}}};
    auto adopted = deps_.client->Patch(ref, job_.namespace_, kube::Name(obj),
                                       kube::PatchType::kMerge, patch);
    if (adopted.ok()) {
      owned.push_back(std::move(*adopted));
    } else if (!kube::IsNotFound(adopted.status()) && !kube::IsConflict(adopted.status())) {
      LOG(WARNING) << key_ << ": adopting " << kube::Name(obj) << ": " << adopted.status();
    }
  }
}

bool PodControl::DeletePod(const Object& pod, std::string_view why) {
  const std::string uid = kube::Uid(pod);
  deps_.expectations->ExpectDelete(key_, uid);
  kube::DeleteOptions options;
  options.precondition_uid = uid;
  absl::Status s = deps_.client->Delete(kube::resources::Pods(), job_.namespace_,
                                        kube::Name(pod), options);
  if (s.ok() || kube::IsNotFound(s)) {
    deps_.events->Record(object_, "Normal", "SuccessfulDeletePod",
                         absl::StrCat("Deleted pod: ", kube::Name(pod), why.empty() ? "" : " (",
                                      A(why), why.empty() ? "" : ")"));
    return true;
  }
  deps_.expectations->DeleteObserved(key_, uid);
  deps_.events->Record(object_, "Warning", "FailedDeletePod",
                       absl::StrCat("Error deleting pod ", kube::Name(pod), ": ", s.message()));
  return false;
}

bool PodControl::DeleteService(const Object& service) {
  absl::Status s = deps_.client->Delete(kube::resources::Services(), job_.namespace_,
                                        kube::Name(service));
  if (s.ok() || kube::IsNotFound(s)) {
    deps_.events->Record(object_, "Normal", "SuccessfulDeleteService",
                         absl::StrCat("Deleted service: ", kube::Name(service)));
    return true;
  }
  deps_.events->Record(object_, "Warning", "FailedDeleteService",
                       absl::StrCat("Error deleting service ", kube::Name(service), ": ",
                                    s.message()));
  return false;
}

bool PodControl::DeleteAll(const OwnedObjects& owned, bool only_unfinished) {
  bool ok = true;
  for (const Object& pod : owned.pods) {
    const std::string phase = PhaseOf(pod);
    if (only_unfinished && phase != "Running" && phase != "Pending" && !phase.empty()) continue;
    ok &= DeletePod(pod, "");
    for (const Object& svc : owned.services) {
      if (kube::Name(svc) == kube::Name(pod)) ok &= DeleteService(svc);
    }
  }
  if (!only_unfinished) {
    for (const Object& svc : owned.services) {
      const bool has_pod = std::ranges::any_of(
          owned.pods, [&](const Object& p) { return kube::Name(p) == kube::Name(svc); });
      if (!has_pod) ok &= DeleteService(svc);
    }
  }
  return ok;
}

std::optional<PodControl::PlannedCreate> PodControl::Plan(const CreateRequest& request,
                                                          const PodBuilder& builder,
                                                          CreateOutcome& outcome) {
  PlannedCreate planned;
  planned.is_pod = request.is_pod;
  planned.name = ReplicaName(job_, request.replica->type, request.index);
  if (!request.is_pod) {
    planned.body = builder.Service(*request.replica, request.index);
    return planned;
  }
  BuiltPod built = builder.Pod(*request.replica, request.index);
  for (const JobEventNote& note : built.notes) {
    deps_.events->Record(object_, note.type, note.reason, note.message);
  }
  if (built.retry) outcome.retry = true;
  if (!built.pod) return std::nullopt;
  planned.body = std::move(*built.pod);
  return planned;
}

CreateOutcome PodControl::CreateAll(const std::vector<CreateRequest>& requests,
                                    const PodBuilder& builder, size_t object_bytes,
                                    const std::function<bool()>& cancelled) {
  CreateOutcome outcome;
  std::vector<std::optional<PlannedCreate>> batch;
  size_t batch_begin = 0;
  auto report = [&] {
    for (std::optional<PlannedCreate>& p : batch) {
      if (p) Report(*p, outcome);
    }
    batch.clear();
  };
  const size_t max_batch = std::clamp<size_t>(
      kCreateBatchBytes / std::max<size_t>(object_bytes, 1), 1, kMaxCreateBatch);
  RunInSlowStartBatches(
      *deps_.create_runner, requests.size(), max_batch,
      [&](size_t i) {
        std::optional<PlannedCreate>& p = batch[i - batch_begin];
        if (!p) return true;  // could not be planned: the reason is an event already
        deps_.expectations->ExpectCreate(key_, p->ExpectationName());
        p->sent = true;
        // This runs on the shared pool, outside the reconcile's barrier: nothing may escape.
        p->result = common::StatusOfCall([&] {
          return deps_.client->CreateStatusOnly(
              p->is_pod ? kube::resources::Pods() : kube::resources::Services(), job_.namespace_,
              p->body);
        });
        return p->result.ok() || kube::IsAlreadyExists(p->result);
      },
      [&](size_t begin, size_t end) {
        report();
        if (cancelled()) return false;
        batch_begin = begin;
        for (size_t i = begin; i < end; ++i) batch.push_back(Plan(requests[i], builder, outcome));
        return true;
      });
  report();
  return outcome;
}

void PodControl::Report(const PlannedCreate& p, CreateOutcome& outcome) {
  if (!p.sent) return;
  const std::string_view what = p.is_pod ? "pod" : "service";
  if (p.result.ok()) {
    deps_.events->Record(object_, "Normal",
                         p.is_pod ? "SuccessfulCreatePod" : "SuccessfulCreateService",
                         absl::StrCat("Created ", A(what), ": ", p.name));
    return;
  }
  // The create did not happen (or is not ours to wait for): nothing is pending any more.
  deps_.expectations->CreateObserved(key_, p.ExpectationName());
  if (kube::IsAlreadyExists(p.result)) {
    // An earlier pass or process made it, or the object of that name is still being deleted
    // (a recreation): names are deterministic, so nothing is duplicated. Look again shortly;
    // the informer may never send an event for this name that would clear the expectation.
    outcome.look_again_soon = true;
    return;
  }
  deps_.events->Record(object_, "Warning", p.is_pod ? "FailedCreatePod" : "FailedCreateService",
                       absl::StrCat("Error creating ", A(what), " ", p.name, ": ",
                                    p.result.message()));
  if (kube::IsInvalid(p.result)) {
    // The API server's own validation refused what the spec implies (a check lib/api does not
    // make): the same spec can only be refused again, so the job fails instead of retrying.
    if (!outcome.refused_as_invalid) {
      outcome.refused_as_invalid =
          absl::StrCat(ReplicaMessagePrefix(job_), " is invalid: the API server refused its ",
                       A(what), " ", p.name, ": ", p.result.message());
    }
    return;
  }
  outcome.failed = true;
}

}  // namespace kubedl::reconciler
