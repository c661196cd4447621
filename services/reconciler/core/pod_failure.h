#pragma once
// Why a pod failed and whether recreating it can help (SPEC §5, "Failed pods").
#include <cstdint>
#include <string>

#include "kubedl/api/job.h"
#include "kubedl/api/kind.h"
#include "kubedl/kube/object.h"

namespace kubedl::reconciler {

struct PodFailure {
  // Exit code of the framework container, or -1 when it never terminated with one.
  int32_t exit_code = -1;
  // The pod was evicted, OOM-killed, lost its node, or exited with a code >= 128 (a signal):
  // the process did not fail on its own, so a new pod may succeed.
  bool retryable = false;
  std::string reason;  // Evicted, OOMKilled, NodeLost, Signal, Error
  // The last line of the framework container's termination message (what it wrote to its
  // terminationMessagePath, or its log's tail under FallbackToLogsOnError: a Python exception's
  // "ValueError: ..."), at most kMaxFailureMessage bytes; empty when there is none.
  std::string message;
};

inline constexpr size_t kMaxFailureMessage = 256;

// The framework container decides: the kind's (its accepted names), else the first.
PodFailure ClassifyFailure(const kube::Object& pod, const api::KindDescriptor& kind);
// The same for a pod of `job`: an MPIJob's `mainContainer`, when set, is its framework container.
PodFailure ClassifyFailure(const kube::Object& pod, const api::Job& job);

// Sum of restartCount over the pod's containers (backoffLimit counts them).
int64_t ContainerRestarts(const kube::Object& pod);

}  // namespace kubedl::reconciler
