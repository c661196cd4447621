#pragma once

// The kubedl.v1.GangScheduler gRPC service (callback API) over one backend. Calls that talk to
// the API server run on a small worker pool, so gRPC's callback threads never block on the
// network; BindPod is pure computation and is answered at once.

#include <memory>

#include "absl/status/status.h"
#include "gang_backend.h"
#include "grpcpp/support/status.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/v1/gang_scheduler.grpc.pb.h"
#include "pod_group_control.h"
#include "protected_namespaces.h"
#include "worker_pool.h"

namespace kubedl::gang {

class GangSchedulerService final : public v1::GangScheduler::CallbackService {
 public:
  // `backend`, `client` and `cache` must outlive the service. `workers` threads make API
  // calls. `cache`: see PodGroupControl. Calls naming a namespace in `protected_namespaces` are
  // refused (PermissionDenied) before anything else is done.
  GangSchedulerService(const GangBackend& backend, kube::Client& client, int workers,
                       const kube::Informer* cache = nullptr,
                       ProtectedNamespaces protected_namespaces = ProtectedNamespaces::Defaults());

  grpc::ServerUnaryReactor* EnsureGang(grpc::CallbackServerContext* context,
                                       const v1::EnsureGangRequest* request,
                                       v1::EnsureGangResponse* response) override;
  grpc::ServerUnaryReactor* BindPod(grpc::CallbackServerContext* context,
                                    const v1::BindPodRequest* request,
                                    v1::BindPodResponse* response) override;
  grpc::ServerUnaryReactor* GetGang(grpc::CallbackServerContext* context,
                                    const v1::GetGangRequest* request,
                                    v1::Gang* response) override;
  grpc::ServerUnaryReactor* DeleteGang(grpc::CallbackServerContext* context,
                                       const v1::DeleteGangRequest* request,
                                       v1::DeleteGangResponse* response) override;

 private:
  // Why a call about `job` is refused before any work: a malformed job reference
  // (InvalidArgument) or a protected namespace (PermissionDenied); OK otherwise.
  absl::Status Refusal(const v1::JobRef& job) const;

  const GangBackend& backend_;
  const ProtectedNamespaces protected_namespaces_;
  PodGroupControl pod_groups_;
  WorkerPool pool_;  // last: its threads stop before what they use goes away
};

// How an error reaches a gRPC caller: a code that says what to do (caller_errors.h: API server
// or etcd trouble UNAVAILABLE, retry; a missing CRD or this service's RBAC FAILED_PRECONDITION,
// retry much later; a bad or too large request INVALID_ARGUMENT, do not retry; a caller refused
// by this service PERMISSION_DENIED).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace kubedl::gang
