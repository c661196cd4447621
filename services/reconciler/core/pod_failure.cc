#include "core/pod_failure.h"

#include <algorithm>
#include <string_view>

namespace kubedl::reconciler {
namespace {

bool IsFrameworkContainer(const kube::Object& status, const api::KindDescriptor& kind) {
  const std::string name = status.value("name", "");
  return std::ranges::any_of(kind.accepted_container_names,
                             [&](std::string_view n) { return n == name; });
}

}  // namespace

PodFailure ClassifyFailure(const kube::Object& pod, const api::KindDescriptor& kind) {
  PodFailure failure;
  const kube::Object empty = kube::Object::object();
  const kube::Object& status = pod.contains("status") ? pod["status"] : empty;
  const std::string pod_reason = status.value("reason", "");
  if (pod_reason == "Evicted" || pod_reason == "NodeLost" || pod_reason == "UnexpectedAdmissionError" ||
      pod_reason == "Shutdown" || pod_reason == "Terminated") {
    failure.retryable = true;
    failure.reason = pod_reason;
  }
  auto statuses = status.find("containerStatuses");
  if (statuses != status.end() && statuses->is_array()) {
    const kube::Object* chosen = nullptr;
    for (const auto& cs : *statuses) {
      if (!cs.is_object()) continue;
      if (IsFrameworkContainer(cs, kind)) {
        chosen = &cs;
        break;
      }
      if (chosen == nullptr) chosen = &cs;  // no framework container: the first one decides
    }
    if (chosen != nullptr) {
      for (const char* field : {"state", "lastState"}) {
        auto state = chosen->find(field);
        if (state == chosen->end() || !state->is_object()) continue;
        auto terminated = state->find("terminated");
        if (terminated == state->end() || !terminated->is_object()) continue;
        failure.exit_code = terminated->value("exitCode", -1);
        const std::string reason = terminated->value("reason", "");
        if (reason == "OOMKilled") {
          failure.retryable = true;
          failure.reason = reason;
        }
        break;
      }
    }
  }
  if (failure.exit_code >= 128 && failure.reason.empty()) {
    failure.retryable = true;
    failure.reason = "Signal";
  }
  if (failure.reason.empty()) failure.reason = "Error";
  return failure;
}

int64_t ContainerRestarts(const kube::Object& pod) {
  int64_t total = 0;
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return 0;
  auto statuses = status->find("containerStatuses");
  if (statuses == status->end() || !statuses->is_array()) return 0;
  for (const auto& cs : *statuses) {
    if (cs.is_object()) total += cs.value("restartCount", int64_t{0});
  }
  return total;
}

}  // namespace kubedl::reconciler
