#pragma once
// One pass of the job controller over one job that passed validation: observe its replicas,
// apply its runPolicy, make what is missing, and write the status. The pass orchestrates:
// replica_observer says what the pods show, run_policy what the runPolicy decides, pod_builder
// and pod_control make and delete pods and services, owned_object_control a plug-in's extra
// objects, gang_gate the gang, status_writer the status. A pass lives for one reconcile.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/framework.h"
#include "core/gang_gate.h"
#include "core/pod_control.h"
#include "core/reconciler_deps.h"
#include "core/replica_observer.h"
#include "core/status_writer.h"
#include "core/written_state.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/work_queue.h"

namespace kubedl::reconciler {

class JobPass {
 public:
  JobPass(ReconcilerDeps& deps, WrittenState& written, std::string key, kube::Object object,
          api::Job job, size_t job_bytes)
      : deps_(deps), written_(written), key_(std::move(key)), job_bytes_(job_bytes),
        object_(std::move(object)), job_(std::move(job)), framework_(FrameworkFor(job_.kind)),
        now_(deps_.clock->Now()),
        status_(*deps_.client, *deps_.events, deps_.job_events, written_, key_, job_, object_,
                now_),
        pod_deps_{deps_.client, deps_.pods, deps_.services, deps_.events, deps_.expectations,
                  deps_.create_runner},
        pods_(pod_deps_, key_, job_, object_),
        gang_(deps_.gang, *deps_.events, job_, object_) {}

  kube::ReconcileResult Run();

 private:
  // Fails the job when it ran past activeDeadlineSeconds; else requeues for that moment.
  bool DeadlinePassed();
  // The replicas as the pods show them, with this pass's deletes and events done.
  ReplicaObservation Observe(const OwnedObjects& owned);
  // Fails the job (failed replicas, backoffLimit) or marks it Succeeded by its plug-in's rule;
  // where it stands by that rule.
  JobProgress Judge(const ReplicaObservation& seen);
  kube::ReconcileResult Suspend(const OwnedObjects& owned);
  void Resume();
  kube::ReconcileResult Finish(const OwnedObjects& owned);
  kube::ReconcileResult WriteStatus() {
    if (!status_.Write()) result_.error = true;
    return result_;
  }
  void CarryOut(const std::vector<ReplicaAction>& actions);
  int64_t CountRecreations(int64_t recreated_now);
  void SyncOwnedObjects(const ReplicaStates& states);
  // Creates what is missing; the API server's refusal of an object as invalid, if any.
  std::optional<std::string> CreateMissing(const ReplicaObservation& seen);
  // True when the pass should stop creating: the process stops, or the job is gone.
  bool Cancelled();
  // True when pods may be created now (no gang, or the gang exists and is admitted).
  bool GangAllowsPods();
  void DeleteGang();
  void Requeue(absl::Duration after) {
    if (after <= absl::ZeroDuration()) after = absl::Milliseconds(100);
    if (result_.requeue_after == absl::ZeroDuration() || after < result_.requeue_after) {
      result_.requeue_after = after;
    }
  }

  ReconcilerDeps& deps_;
  WrittenState& written_;
  const std::string key_;
  const size_t job_bytes_;  // the job's size as JSON text
  const kube::Object object_;
  api::Job job_;
  const Framework& framework_;
  const absl::Time now_;
  StatusWriter status_;
  const PodControlDeps pod_deps_;
  PodControl pods_;
  GangGate gang_;
  kube::ReconcileResult result_;
  std::optional<bool> gang_allows_;  // asked once per pass
};

}  // namespace kubedl::reconciler
