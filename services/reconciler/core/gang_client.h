#pragma once
// The reconciler's view of the gang-scheduler service (SPEC §6). The gRPC implementation talks
// to any program serving kubedl.v1.GangScheduler; tests use fakes of this interface.
//
// Errors keep the gRPC meaning as absl codes: kUnavailable / kDeadlineExceeded (retry with
// backoff), kFailedPrecondition (the backend's PodGroup CRD is missing: retry much later),
// kInvalidArgument (the request is wrong: record it, do not retry the same request).
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kubedl/api/job.h"

namespace kubedl::reconciler {

enum class GangAdmission { kPending, kAdmitted, kNotFound };

struct GangState {
  GangAdmission admission = GangAdmission::kNotFound;
  std::string backend_phase;  // the PodGroup's own phase, for condition messages
};

struct PodBinding {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string scheduler_name;  // empty: leave the pod's schedulerName as it is
  std::string warning;         // set when the template names another scheduler
};

class GangClient {
 public:
  virtual ~GangClient() = default;
  // Creates or updates the job's gang (minMember, minResources, queue, priority class, timeout
  // from the job's scheduling policy and replica templates). Idempotent.
  virtual absl::StatusOr<GangState> EnsureGang(const api::Job& job) = 0;
  virtual absl::StatusOr<GangState> GetGang(const api::Job& job) = 0;
  // What to put on the pod of `replica_type`/`index` whose template names `scheduler_name`.
  virtual absl::StatusOr<PodBinding> BindPod(const api::Job& job, const std::string& replica_type,
                                             int32_t index,
                                             const std::string& scheduler_name) = 0;
  // NotFound counts as success.
  virtual absl::Status DeleteGang(const api::Job& job) = 0;
};

// A client for the service at `address` ("host:port"); TLS when `ca_file` is set.
// Each call carries a deadline (5 s).
std::unique_ptr<GangClient> NewGrpcGangClient(const std::string& address,
                                              const std::string& ca_file = "");

}  // namespace kubedl::reconciler
