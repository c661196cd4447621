#pragma once
// The objects besides pods and services that a job's plug-in wants it to own (Framework::
// DesiredObjects): created when missing, updated when they differ from what is wanted, and
// deleted when the plug-in no longer wants them. Only objects the job controls are touched; a
// name taken by someone else's object is reported, never overwritten. Reads go to the API
// server (consistent lists of the job's labelled objects), so a pass never acts on a stale cache
// and needs no expectations; kinds without extra objects cost nothing.
#include <string>
#include <vector>

#include "core/framework.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::reconciler {

class OwnedObjectControl {
 public:
  OwnedObjectControl(kube::Client& client, kube::EventRecorder& events, const std::string& key,
                     const api::Job& job, const kube::Object& job_object);

  // Makes the job's objects of `resources` match `desired`. False when a request failed in a
  // way a later pass may fix (retry with backoff).
  bool Sync(const std::vector<kube::ResourceRef>& resources,
            const std::vector<OwnedObject>& desired);

 private:
  // `desired` with the namespace, the job's labels and the owner reference added.
  kube::Object Complete(const OwnedObject& desired) const;
  bool Reconcile(const kube::ResourceRef& resource, const std::vector<kube::Object>& existing,
                 const std::vector<const OwnedObject*>& desired);
  bool CreateOrUpdate(const kube::ResourceRef& resource, const kube::Object* existing,
                      const OwnedObject& desired);
  static bool Holds(const kube::Object& existing, const kube::Object& wanted);
  // Records a FailedSyncObject event; false.
  bool Failed(const std::string& what, const absl::Status& status);

  kube::Client& client_;
  kube::EventRecorder& events_;
  const std::string& key_;
  const api::Job& job_;
  const kube::Object& object_;
};

// True when `existing` already holds everything `wanted` says (fields the API server adds,
// such as defaults and metadata it manages, do not count).
bool HoldsEverything(const api::Json& existing, const api::Json& wanted);

}  // namespace kubedl::reconciler
