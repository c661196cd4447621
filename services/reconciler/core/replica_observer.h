#pragma once
// From the pods and services a job owns to what each replica index is doing, and what the
// restart policy says to do about it (SPEC §5). Pure: it reads the pods, the services and the
// expectations and returns decisions in the order they are to be carried out; the pass acts.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/expectations.h"
#include "core/framework.h"
#include "core/pod_failure.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/object.h"

namespace kubedl::reconciler {

// Job annotation holding how many pods the reconciler recreated (backoffLimit counts them; an
// annotation survives restarts of the reconciler).
inline constexpr char kRecreationsAnnotation[] = "kubedl.io/recreations";

// Whether a failed pod is recreated under its replica's restart policy: OnFailure and Always
// always; ExitCode when the failure is retryable; Never only when the pod did not fail on its
// own (evicted, lost its node), since then the process never had its chance.
bool RestartPolicyRecreates(std::string_view restart_policy, const PodFailure& failure);

// Where recreation counts stop: far beyond any backoffLimit, and far from overflowing when the
// pass adds this pass's recreations and the containers' restarts.
inline constexpr int64_t kMaxRecreations = int64_t{1} << 40;

// The one recreation count of a job: what its annotation says, or more when this process has
// recreated pods the cache does not show the annotation for yet.
int64_t RecreationCount(const api::Job& job, int64_t known_to_this_process);

// One thing the pass must do about an observed object, in observation order.
struct ReplicaAction {
  enum class Type {
    kDeleteService,  // its index is beyond the replica count
    kDeletePod,      // scaled down, or failed and recreated (`why` says which)
    kPodExited,      // a pod ended: counted in metrics; a failed one is also an event
  };
  Type type;
  const kube::Object* object;
  std::string why;
  bool failed = false;  // kPodExited: Failed (else Succeeded)
  PodFailure failure;   // kPodExited and failed
};

// A replica's pod or service that does not exist and is not being created.
struct MissingReplica {
  const api::Replica* replica;
  int64_t index;
};

struct ReplicaObservation {
  ReplicaStates states;
  std::vector<ReplicaAction> actions;
  std::map<std::string, int64_t> permanent_failures;  // type -> pods failed for good
  std::map<std::string, int64_t> recreated;           // type -> pods recreated by this pass
  std::vector<MissingReplica> missing_pods;
  std::vector<MissingReplica> missing_services;
  int64_t container_restarts = 0;
  // status.replicaStatuses as observed, with the scale subresource's selector.
  std::map<std::string, api::ReplicaStatus> replica_statuses;

  int64_t RecreatedCount() const;
};

// `pods` are the job's pods not being deleted, `services` its services. Names the expectations
// still wait for count as neither missing nor present.
ReplicaObservation ObserveReplicas(const api::Job& job, const std::vector<kube::Object>& pods,
                                   const std::vector<kube::Object>& services,
                                   const Expectations& expectations, const std::string& job_key);

// The value of a replica label of an object ("" when absent).
std::string LabelOf(const kube::Object& object, std::string_view key);
// status.phase of a pod ("" when unset).
std::string PhaseOf(const kube::Object& pod);

}  // namespace kubedl::reconciler
