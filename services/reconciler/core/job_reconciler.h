#pragma once
// One pass of the shared job controller over one job (SPEC §4–5): read the job and its pods and
// services from the informer caches, make the world match the spec (create missing replicas,
// delete surplus and failed ones, clean up finished and suspended jobs), work out the status
// and write it when it changed. This is the error barrier and the gate (parse, default and
// validate as the webhook does); JobPass is the pass itself.
#include <string>

#include "core/reconciler_deps.h"
#include "core/replica_observer.h"  // kRecreationsAnnotation, for users of the reconciler
#include "core/status_writer.h"     // InvalidSpecReason
#include "core/written_state.h"
#include "kubedl/kube/work_queue.h"

namespace kubedl::reconciler {

class JobReconciler {
 public:
  explicit JobReconciler(ReconcilerDeps deps);

  // `key` is JobKey(kind, ns, name).
  kube::ReconcileResult Reconcile(const std::string& key);

 private:
  kube::ReconcileResult ReconcileJob(const std::string& key);

  ReconcilerDeps deps_;
  WrittenState written_;
};

}  // namespace kubedl::reconciler
