#pragma once
// The port a kind's rendezvous listens on, read from the framework container only (Paddle's
// `master` port of its `paddle` container, JAX's `jaxjob-port` of its `jax` container; SPEC
// §11–12): a sidecar's port of the same name is not the framework's. core/pod_template.h's
// ReplicaPort looks at every container, which the older kinds keep.
#include <cstdint>
#include <optional>

#include "core/pod_template.h"
#include "kubedl/api/job.h"
#include "kubedl/common/json_access.h"

namespace kubedl::reconciler {

// The containerPort named `kind.port_name` on `replica`'s framework container, else the kind's
// default port (also when the job has no such replica).
inline int64_t FrameworkContainerPort(const api::Replica* replica,
                                      const api::KindDescriptor& kind) {
  if (replica == nullptr) return kind.port;
  const api::Json* container = FrameworkContainer(replica->spec.template_spec, kind);
  const api::Json* ports = container != nullptr ? common::Member(*container, "ports") : nullptr;
  if (ports == nullptr || !ports->is_array()) return kind.port;
  for (const api::Json& port : *ports) {
    if (common::StringOr(port, "name") != kind.port_name) continue;
    if (std::optional<int64_t> number = common::IntAt(port, "containerPort")) return *number;
  }
  return kind.port;
}

}  // namespace kubedl::reconciler
