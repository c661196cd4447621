#pragma once
// One pass of the shared job controller over one job (SPEC §4–5): read the job and its pods and
// services from the informer caches, make the world match the spec (create missing replicas,
// delete surplus and failed ones, clean up finished and suspended jobs), work out the status
// and write it when it changed. Framework-specific answers come from FrameworkFor(kind).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/expectations.h"
#include "core/framework.h"
#include "core/gang_client.h"
#include "core/job_event_emitter.h"
#include "core/parallel_runner.h"
#include "kubedl/api/field_error.h"
#include "kubedl/api/job.h"
#include "kubedl/api/validation.h"
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
  // Runs the creates of each slow-start batch concurrently; one bounded pool shared by all the
  // workers (--create-parallelism). Required.
  ParallelRunner* create_runner = nullptr;
  FrameworkOptions framework_options;
  kube::Clock* clock = &kube::RealClock();
  // Validation as the webhook does it (SPEC §3): replica limits and the Pod schema.
  api::ValidationOptions validation;
  // The Pod schema templates are checked against (fetched from the API server and refreshed);
  // empty or nullptr: the built-in one.
  std::function<std::shared_ptr<const api::PodSchema>()> pod_schema;
  // Notified when the process stops: a pass stops creating between batches.
  const absl::Notification* stopping = nullptr;
  // Called when a reconcile threw (counted as a metric by the manager).
  std::function<void(const std::string& key)> on_unexpected_error;
};

// The condition reason of a job the reconciler refuses to run (SPEC §3 checks failed).
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";

class JobReconciler {
 public:
  explicit JobReconciler(ReconcilerDeps deps);

  // `key` is JobKey(kind, ns, name).
  kube::ReconcileResult Reconcile(const std::string& key);

 private:
  class Pass;
  friend class Pass;

  kube::ReconcileResult ReconcileJob(const std::string& key);
  kube::ReconcileResult RefuseInvalidJob(const std::string& key, api::JobKind kind,
                                         const kube::Object& object,
                                         const api::FieldErrors& errors);
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
