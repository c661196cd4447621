#pragma once
// Runs the job controllers of the enabled kinds on one work queue: one informer per job kind,
// shared informers on the pods and services carrying our operator label, N workers calling
// JobReconciler. With automatic workload selection, kinds whose CRD appears later are started
// without a restart.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/job_reconciler.h"
#include "kubedl/api/kind.h"
#include "kubedl/kube/discovery.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/work_queue.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace kubedl::reconciler {

struct ManagerOptions {
  std::string namespace_name;          // "" = all namespaces
  int workers = 16;                    // --max-concurrent-reconciles
  // A pod or service event wakes its job this much later, so that the events of a burst (a
  // job's creates confirmed, its pods starting) cost one reconcile, not one each, as the
  // Kubernetes Job controller batches them. Zero: at once. --owned-event-batch-period.
  absl::Duration owned_event_batch = absl::Milliseconds(500);
  std::vector<api::JobKind> kinds;     // enabled now
  // Kinds to start once their CRD is served (--workloads=auto); checked every discovery_period.
  std::vector<api::JobKind> discover_kinds;
  absl::Duration discovery_period = absl::Seconds(10);
};

class ControllerManager {
 public:
  // `deps` is completed here (caches, expectations); the caller fills client, events, gang,
  // job_events, framework options.
  ControllerManager(kube::Client& client, ReconcilerDeps deps, ManagerOptions options,
                    prometheus::Registry& registry);
  ~ControllerManager();

  // Starts informers and workers; returns once the caches of the initial kinds have synced.
  // Cancelled when Stop() is called before or while it runs.
  absl::Status Start();
  // Stops everything Start() started; safe to call from another thread while Start() waits for
  // the caches (it makes Start() return and waits for that). Idempotent.
  void Stop();
  bool Ready() const { return ready_.load(); }
  std::vector<api::JobKind> RunningKinds() const;
  // Live jobs and their current state, for the metrics service's snapshots.
  std::vector<std::pair<kube::Object, std::string>> LiveJobs() const;

 private:
  void StartKind(api::JobKind kind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnqueueOwner(const kube::Object& obj);
  void DiscoveryLoop();
  // Waits for `informer`'s first list, checking for Stop() meanwhile.
  absl::Status WaitForSyncUnlessStopping(const kube::Informer& informer, absl::Time deadline,
                                         absl::string_view what);
  kube::ReconcileResult Reconcile(const std::string& key);

  kube::Client& client_;
  ReconcilerDeps deps_;
  const ManagerOptions options_;
  Expectations expectations_;
  std::unique_ptr<kube::WorkQueue> queue_;
  std::unique_ptr<kube::Informer> pods_;
  std::unique_ptr<kube::Informer> services_;
  mutable absl::Mutex mu_;
  std::map<api::JobKind, std::unique_ptr<kube::Informer>> jobs_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<JobReconciler> reconciler_;
  std::unique_ptr<kube::Workers> workers_;
  std::unique_ptr<kube::Discovery> discovery_;
  std::thread discovery_thread_;
  // Held by Start() and Stop() for their whole run: Stop() waits for a Start() in progress.
  absl::Mutex lifecycle_mu_;
  absl::once_flag stop_once_;
  absl::Notification stopping_;
  std::atomic<bool> ready_{false};

  prometheus::Family<prometheus::Counter>& reconciles_;
  prometheus::Family<prometheus::Histogram>& reconcile_seconds_;
  prometheus::Gauge& queue_depth_;
  prometheus::Family<prometheus::Counter>& reconcile_exceptions_;
};

}  // namespace kubedl::reconciler
