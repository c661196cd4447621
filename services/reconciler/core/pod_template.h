#pragma once
// Small edits of a pod object that every framework makes.
#include <cstdint>
#include <string>
#include <string_view>

#include "kubedl/api/job.h"
#include "kubedl/api/json.h"

namespace kubedl::reconciler {

// The pod's containers (spec.containers), created empty when missing.
api::Json& Containers(api::Json& pod);
// The framework container of `kind` in `pod`, or nullptr.
api::Json* FrameworkContainer(api::Json& pod, const api::KindDescriptor& kind);
// The same, reading a pod or a pod template without changing it; nullptr when there is none.
const api::Json* FrameworkContainer(const api::Json& pod, const api::KindDescriptor& kind);
// Adds an env var unless the container already sets `name` (the user's value wins).
void AddEnv(api::Json& container, std::string_view name, std::string_view value);
// The framework port of a replica: its container's port named after the kind's port name,
// else the kind's default.
int64_t ReplicaPort(const api::Replica& replica, const api::KindDescriptor& kind);
// Total desired replicas of the job.
int64_t TotalReplicas(const api::Job& job);
// "<name>.<ns>.svc[.<domain>]": the DNS name of a replica's headless service.
std::string ServiceHost(const api::Job& job, std::string_view replica_type, int64_t index,
                        std::string_view cluster_domain);

}  // namespace kubedl::reconciler
