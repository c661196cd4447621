#pragma once
// The pods and services of one job as a pass changes them: observe (with adoption of orphans
// that carry the job's labels), create in slow-start batches on the shared bounded executor,
// delete. Every create and delete is announced to the expectations first and recorded as an
// event on the job, as the Kubernetes controllers do.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expectations.h"
#include "core/parallel_runner.h"
#include "core/pod_builder.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::reconciler {

struct PodControlDeps {
  kube::Client* client = nullptr;
  const kube::ObjectCache* pods = nullptr;
  const kube::ObjectCache* services = nullptr;
  kube::EventRecorder* events = nullptr;
  Expectations* expectations = nullptr;
  ParallelRunner* create_runner = nullptr;
};

// What a job owns now: pods not being deleted, and services.
struct OwnedObjects {
  std::vector<kube::Object> pods;
  std::vector<kube::Object> services;
};

// A replica's pod or service to create.
struct CreateRequest {
  const api::Replica* replica;
  int64_t index;
  bool is_pod;
};

struct CreateOutcome {
  bool failed = false;  // a create failed in a way a later pass may fix: retry with backoff
  bool retry = false;   // a pod had to wait (its gang): requeue
  bool look_again_soon = false;  // an object already existed: look again in a second
  // The API server refused an object as invalid: the same spec can only be refused again.
  std::optional<std::string> refused_as_invalid;
};

class PodControl {
 public:
  PodControl(const PodControlDeps& deps, const std::string& job_key, const api::Job& job,
             const kube::Object& job_object);

  OwnedObjects ObserveOwned();

  // False when the API server did not delete it (the pass retries with backoff).
  bool DeletePod(const kube::Object& pod, std::string_view why);
  bool DeleteService(const kube::Object& service);
  // The job's pods (only Pending and Running ones when `only_unfinished`) and the services of
  // the pods deleted; with !only_unfinished also services whose pod is gone.
  bool DeleteAll(const OwnedObjects& owned, bool only_unfinished);

  // Sends the creates in slow-start batches; a failed batch leaves the rest for the next pass.
  // Each object is about `object_bytes` of JSON: only the batch about to be sent is built and
  // held. `cancelled` is asked between batches.
  CreateOutcome CreateAll(const std::vector<CreateRequest>& requests, const PodBuilder& builder,
                          size_t object_bytes, const std::function<bool()>& cancelled);

 private:
  struct PlannedCreate;
  void Adopt(const kube::ObjectCache& cache, const kube::ResourceRef& ref,
             std::vector<kube::Object>& owned);
  std::optional<PlannedCreate> Plan(const CreateRequest& request, const PodBuilder& builder,
                                    CreateOutcome& outcome);
  void Report(const PlannedCreate& planned, CreateOutcome& outcome);

  const PodControlDeps& deps_;
  const std::string& key_;
  const api::Job& job_;
  const kube::Object& object_;
};

}  // namespace kubedl::reconciler
