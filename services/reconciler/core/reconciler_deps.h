#pragma once
// What the job controller works with: the API server client, the informer caches, the
// recorders and the bounded executor, shared by every pass.
#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "core/expectations.h"
#include "core/framework.h"
#include "core/gang_client.h"
#include "core/job_event_emitter.h"
#include "core/parallel_runner.h"
#include "kubedl/api/job.h"
#include "kubedl/api/pod_schema.h"
#include "kubedl/api/validation.h"
#include "kubedl/kube/clock.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::reconciler {

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

}  // namespace kubedl::reconciler
