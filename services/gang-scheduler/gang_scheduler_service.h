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
#include "worker_pool.h"

namespace kubedl::gang {

class GangSchedulerService final : public v1::GangScheduler::CallbackService {
 public:
  // `backend`, `client` and `cache` must outlive the service. `workers` threads make API
  // calls. `cache`: see PodGroupControl.
  GangSchedulerService(const GangBackend& backend, kube::Client& client, int workers,
                       const kube::Informer* cache = nullptr);

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
  const GangBackend& backend_;
  PodGroupControl pod_groups_;
  WorkerPool pool_;  // last: its threads stop before what they use goes away
};

// How an error reaches a gRPC caller: a code that says whether to retry (API server trouble of
// any kind becomes UNAVAILABLE; a missing CRD FAILED_PRECONDITION; a bad request
// INVALID_ARGUMENT).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace kubedl::gang
