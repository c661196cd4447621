#pragma once
// What a training framework adds to the shared job controller (SPEC §4–5). The core owns pods,
// services, expectations, restarts and the status machine; a Framework only answers questions
// about its own kind. Implementations are stateless and thread-safe.
//
//   const Framework& tf = FrameworkFor(api::JobKind::kTFJob);
//   RETURN_IF_ERROR(tf.DecoratePod(job, "Worker", 0, options, pod));
//   JobProgress progress = tf.Progress(job, replica_states);
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "kubedl/api/job.h"
#include "kubedl/api/json.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler {

// Reconciler-wide settings a framework may need when it builds a pod.
struct FrameworkOptions {
  // Appended to service host names when set ("<svc>.<ns>.svc.<domain>"), from the reconciler's
  // CUSTOM_CLUSTER_DOMAIN environment variable.
  std::string cluster_domain;
  // PyTorch workers wait for the master's DNS name with this init container.
  std::string master_wait_image = "busybox:1.36";
  int32_t master_wait_retries = 120;
  int32_t master_wait_interval_seconds = 2;
};

// The observed outcome of one replica index (the pod with that index, if any).
enum class PodOutcome { kMissing, kPending, kRunning, kSucceeded, kFailed };

// One replica type as the core observed it on this pass.
struct ReplicaState {
  int64_t replicas = 0;  // desired (spec)
  int64_t active = 0;    // pods Running
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::vector<PodOutcome> by_index;  // size == replicas
};
// Keyed by canonical replica type ("Worker").
using ReplicaStates = std::map<std::string, ReplicaState, std::less<>>;

// Where the job stands by its framework's rules. Permanent failures are the core's business
// (exit codes, backoff, deadlines); a framework only says when the job runs and when it is done.
enum class JobProgress { kNotRunning, kRunning, kSucceeded };

class Framework {
 public:
  virtual ~Framework() = default;

  virtual api::JobKind kind() const = 0;

  // Adds the framework's env, ports and init containers to a pod about to be created. `pod` is
  // a full Pod object (metadata + spec) built by the core from the replica's template, already
  // named "<job>-<lower type>-<index>" and labelled. Returns InvalidArgument when the job cannot
  // produce this pod (the core records it as a FailedCreatePod event, never crashes).
  virtual absl::Status DecoratePod(const api::Job& job, std::string_view replica_type,
                                   int64_t index, const FrameworkOptions& options,
                                   api::Json& pod) const = 0;

  // True for the pod that carries `job-role=master` (TF Chief/Master, else worker 0;
  // PyTorch/XGBoost Master).
  virtual bool IsMaster(const api::Job& job, std::string_view replica_type,
                        int64_t index) const = 0;

  // Running / Succeeded by the framework's rules (SPEC §5), from this pass's observations.
  virtual JobProgress Progress(const api::Job& job, const ReplicaStates& states) const = 0;
};

// The framework of a kind; every JobKind has one.
const Framework& FrameworkFor(api::JobKind kind);

}  // namespace kubedl::reconciler
