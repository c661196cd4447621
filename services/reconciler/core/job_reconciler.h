#pragma once
// One pass of the shared job controller over one job (SPEC §4–5): read the job and its pods and
// services from the informer caches, make the world match the spec (create missing replicas,
// delete surplus and failed ones, clean up finished and suspended jobs), work out the status
// and write it when it changed. Framework-specific answers come from FrameworkFor(kind).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "core/expectations.h"
#include "core/framework.h"
#include "core/gang_client.h"
#include "core/job_event_emitter.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/clock.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/kube/work_queue.h"

namespace kubedl::reconciler {

// Job annotation holding how many pods the reconciler recreated (backoffLimit counts them; an
// annotation survives restarts of the reconciler).
inline constexpr char kRecreationsAnnotation[] = "kubedl.io/recreations";

struct ReconcilerDeps {
  kube::Client* client = nullptr;
  // The job cache of a kind (nullptr when the kind is not enabled).
  std::function<const kube::ObjectCache*(api::JobKind)> jobs;
  const kube::ObjectCache* pods = nullptr;
  const kube::ObjectCache* services = nullptr;
  kube::EventRecorder* events = nullptr;
  Expectations* expectations = nullptr;
  GangClient* gang = nullptr;            // nullptr: no gang scheduling
  JobEventEmitter* job_events = nullptr; // nullptr: no metrics service
  FrameworkOptions framework_options;
  kube::Clock* clock = &kube::RealClock();
};

class JobReconciler {
 public:
  explicit JobReconciler(ReconcilerDeps deps);

  // `key` is JobKey(kind, ns, name).
  kube::ReconcileResult Reconcile(const std::string& key);

 private:
  class Pass;
  friend class Pass;

  int64_t Recreations(const std::string& uid, int64_t from_annotation);
  void AddRecreations(const std::string& uid, int64_t total);
  void RememberFinished(const std::string& key, const std::string& uid,
                        const api::JobStatus& status);

  ReconcilerDeps deps_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> recreations_ ABSL_GUARDED_BY(mu_);  // uid -> count
  // job key -> (uid, terminal status this process wrote), until the job is gone.
  absl::flat_hash_map<std::string, std::pair<std::string, api::JobStatus>> finished_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::reconciler
