#pragma once
// What a job kind adds to the shared job controller (SPEC §4–5): the reconciler side of a kind's
// plug-in (docs/adding-a-kind.md). The core owns pods, services, extra owned objects,
// expectations, restarts and the status machine; a Framework only answers questions about its
// own kind. Implementations are stateless and thread-safe, and register themselves with
// KUBEDL_REGISTER_FRAMEWORK in their folder under frameworks/.
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
#include "kubedl/kube/resource.h"

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
  // The MPI launcher's init container: copies kubectl for kubexec.sh and waits for the workers.
  std::string mpi_kubectl_delivery_image = "ghcr.io/kubeflow/training-v1/kubectl-delivery:latest";
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

// An object other than pods and services that a job owns (MPI's ConfigMap, ServiceAccount,
// Role and RoleBinding; a PyTorch job's HorizontalPodAutoscaler). The core creates it when
// missing, updates it when what the plug-in wants differs, and deletes the job's objects of the
// plug-in's OwnedResources() that are no longer wanted.
struct OwnedObject {
  kube::ResourceRef resource;
  // The whole object: apiVersion, kind, metadata.name and its content. The core adds the
  // namespace, the job's labels and the controller owner reference.
  api::Json body;
  // Create only: an object of that name that is already there (a ServiceAccount the user named
  // in the template) is used as it is, never updated or reported.
  bool use_existing = false;
};

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

  // False for kinds whose pods need no headless Service each (MPI reaches its workers through
  // kubectl exec, not DNS).
  virtual bool HeadlessServices() const { return true; }

  // Running / Succeeded by the framework's rules (SPEC §5), from this pass's observations.
  virtual JobProgress Progress(const api::Job& job, const ReplicaStates& states) const = 0;

  // The resources whose objects a job of this kind may own besides pods and services; the core
  // lists the job's objects of these (and only of these) to collect the ones no longer wanted.
  virtual std::vector<kube::ResourceRef> OwnedResources() const { return {}; }
  // What the job should own now of OwnedResources(), given this pass's observations (a
  // suspended job, asked with no states, may want fewer). Asked on every pass of a job that is
  // not finished.
  virtual std::vector<OwnedObject> DesiredObjects(const api::Job& job,
                                                  const ReplicaStates& states,
                                                  const FrameworkOptions& options) const {
    (void)job, (void)states, (void)options;
    return {};
  }
};

// The framework of a kind; every kind of lib/api's table has one (a test checks it).
const Framework& FrameworkFor(api::JobKind kind);
// The framework registered for `kind`, or nullptr.
const Framework* FindFramework(api::JobKind kind);

// Called once per framework, at static initialisation, by KUBEDL_REGISTER_FRAMEWORK.
bool RegisterFramework(const Framework& framework);

// In a framework's .cc file: `KUBEDL_REGISTER_FRAMEWORK(TensorFlowFramework);`. The reconciler
// links its frameworks as an object library, so every registration is kept by the linker.
#define KUBEDL_REGISTER_FRAMEWORK(Type)                                          \
  namespace {                                                                     \
  const bool kRegistered##Type = ::kubedl::reconciler::RegisterFramework(*new Type()); \
  }                                                                               \
  static_assert(true)

}  // namespace kubedl::reconciler
