#include "gang_scheduler_service.h"

#include <functional>
#include <string>
#include <utility>

#include "caller_errors.h"
#include "kubedl/common/error_barrier.h"

namespace kubedl::gang {
namespace {

// Runs `work` on the pool and finishes the reactor with its status. A call the client already
// gave up on is not started.
grpc::ServerUnaryReactor* RunOnPool(grpc::CallbackServerContext* context, WorkerPool& pool,
                                    const absl::Status& refusal,
                                    std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!refusal.ok()) {  // answered at once: a refused call costs no worker
    reactor->Finish(ToGrpcStatus(refusal));
    return reactor;
  }
  pool.Post([context, reactor, work = std::move(work)] {
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the caller gave up"));
      return;
    }
    reactor->Finish(ToGrpcStatus(common::StatusOfCall(work)));
  });
  return reactor;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& api_status) {
  if (api_status.ok()) return grpc::Status::OK;
  const absl::Status status = ForCaller(api_status);
  grpc::StatusCode code;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case absl::StatusCode::kFailedPrecondition: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case absl::StatusCode::kNotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case absl::StatusCode::kPermissionDenied: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case absl::StatusCode::kUnauthenticated: code = grpc::StatusCode::UNAUTHENTICATED; break;
    case absl::StatusCode::kAborted: code = grpc::StatusCode::ABORTED; break;
    case absl::StatusCode::kAlreadyExists: code = grpc::StatusCode::ALREADY_EXISTS; break;
    default: code = grpc::StatusCode::UNAVAILABLE; break;  // the API server's trouble: retry
  }
  return grpc::Status(code, std::string(status.message()));
}

GangSchedulerService::GangSchedulerService(const GangBackend& backend, kube::Client& client,
                                           int workers, const kube::Informer* cache,
                                           ProtectedNamespaces protected_namespaces)
    : backend_(backend),
      protected_namespaces_(std::move(protected_namespaces)),
      pod_groups_(backend, client, cache),
      pool_(workers) {}

absl::Status GangSchedulerService::Refusal(const v1::JobRef& job) const {
  // Names first: a malformed one is InvalidArgument whatever namespace it names.
  if (absl::Status valid = ValidateJobRef(job, false); !valid.ok()) return valid;
  return protected_namespaces_.Check(job.namespace_());
}

grpc::ServerUnaryReactor* GangSchedulerService::EnsureGang(grpc::CallbackServerContext* context,
                                                           const v1::EnsureGangRequest* request,
                                                           v1::EnsureGangResponse* response) {
  return RunOnPool(context, pool_, Refusal(request->job()), [this, request, response] {
    return pod_groups_.Ensure(*request, *response->mutable_gang());
  });
}

grpc::ServerUnaryReactor* GangSchedulerService::BindPod(grpc::CallbackServerContext* context,
                                                        const v1::BindPodRequest* request,
                                                        v1::BindPodResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(common::StatusOfCall([&] {
    absl::Status valid = Refusal(request->job());
    if (valid.ok() && (request->replica_type().empty() || request->index() < 0)) {
      valid = absl::InvalidArgumentError("replica_type is required and index must not be negative");
    }
    if (valid.ok()) *response = backend_.Binding(*request);
    return valid;
  })));
  return reactor;
}

grpc::ServerUnaryReactor* GangSchedulerService::GetGang(grpc::CallbackServerContext* context,
                                                        const v1::GetGangRequest* request,
                                                        v1::Gang* response) {
  return RunOnPool(context, pool_, Refusal(request->job()),
                   [this, request, response] { return pod_groups_.Get(*request, *response); });
}

grpc::ServerUnaryReactor* GangSchedulerService::DeleteGang(grpc::CallbackServerContext* context,
                                                           const v1::DeleteGangRequest* request,
                                                           v1::DeleteGangResponse*) {
  return RunOnPool(context, pool_, Refusal(request->job()),
                   [this, request] { return pod_groups_.Delete(*request); });
}

}  // namespace kubedl::gang
