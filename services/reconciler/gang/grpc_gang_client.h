#pragma once

// The reconciler's GangClient over gRPC (kubedl.v1.GangScheduler), and the pieces it is made of
// so tests can check each: the EnsureGang request built from a job, and the status mapping.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/status.h"
#include "kubedl/api/job.h"
#include "kubedl/v1/gang_scheduler.pb.h"
#include "services/reconciler/core/gang_client.h"

namespace kubedl::reconciler {

struct GrpcGangClientOptions {
  absl::Duration deadline = absl::Seconds(5);  // of each call
};

// A GangClient on an existing channel (tests, or callers that share one). `address` only goes
// into error messages.
std::unique_ptr<GangClient> NewGrpcGangClient(std::shared_ptr<grpc::Channel> channel,
                                              std::string address,
                                              GrpcGangClientOptions options = {});

// A client for the service at `address` over a channel of its own with these credentials (the
// reconciler's come from kubedl/common/grpc_channel_credentials.h), keepalive and a short
// reconnect backoff. `extra_arguments` go on the channel too (e.g. a TLS target name override).
std::unique_ptr<GangClient> NewGrpcGangClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    const grpc::ChannelArguments& extra_arguments = {});

// The EnsureGang request for a job (SPEC §6): owner reference fields, minMember from
// minAvailable (when above 0) else the sum of replicas, the policy's minResources, queue,
// priority class and timeout (runPolicy first, then the legacy flat keys), and per replica type
// in the kind's reconcile order its count, template priorityClassName and per-pod requests
// (limits where a container has no request; an init container counts when it needs more than
// the containers together). InvalidArgument when a template's resources cannot be read.
absl::StatusOr<v1::EnsureGangRequest> BuildEnsureGangRequest(const api::Job& job);

// The gRPC answer as an absl status with the same code, the service address in the message.
absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& address);

}  // namespace kubedl::reconciler
