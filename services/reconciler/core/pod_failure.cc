#include "core/pod_failure.h"

#include <algorithm>
#include <climits>
#include <string_view>

#include "kubedl/common/json_access.h"

namespace kubedl::reconciler {
namespace {

// The last non-blank line of a termination message, cut to kMaxFailureMessage bytes on a UTF-8
// character boundary.
std::string LastLine(std::string_view message) {
  size_t end = message.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos) return "";
  message = message.substr(0, end + 1);
  const size_t newline = message.find_last_of('\n');
  if (newline != std::string_view::npos) message = message.substr(newline + 1);
  const size_t begin = message.find_first_not_of(" \t\r");
  message = message.substr(begin == std::string_view::npos ? message.size() : begin);
  if (message.size() > kMaxFailureMessage) {
    size_t cut = kMaxFailureMessage;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
    message = message.substr(0, cut);
  }
  return std::string(message);
}

bool IsFrameworkContainer(const kube::Object& status, const api::KindDescriptor& kind,
                          std::string_view main_container) {
  const std::string name = common::StringOr(status, "name");
  if (!main_container.empty()) return name == main_container;
  return std::ranges::any_of(kind.accepted_container_names,
                             [&](std::string_view n) { return n == name; });
}

PodFailure Classify(const kube::Object& pod, const api::KindDescriptor& kind,
                    std::string_view main_container) {
  PodFailure failure;
  const kube::Object empty = kube::Object::object();
  const kube::Object* status_at = common::Member(pod, "status");
  const kube::Object& status = status_at != nullptr && status_at->is_object() ? *status_at : empty;
  const std::string pod_reason = common::StringOr(status, "reason");
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
      if (IsFrameworkContainer(cs, kind, main_container)) {
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
        failure.exit_code = static_cast<int>(
            std::clamp<int64_t>(common::IntOr(*terminated, "exitCode", -1), INT32_MIN, INT32_MAX));
        failure.message = LastLine(common::StringOr(*terminated, "message"));
        const std::string reason = common::StringOr(*terminated, "reason");
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

}  // namespace

PodFailure ClassifyFailure(const kube::Object& pod, const api::KindDescriptor& kind) {
  return Classify(pod, kind, "");
}

PodFailure ClassifyFailure(const kube::Object& pod, const api::Job& job) {
  return Classify(pod, job.descriptor(), job.spec.main_container.value_or(""));
}

int64_t ContainerRestarts(const kube::Object& pod) {
  int64_t total = 0;
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return 0;
  auto statuses = status->find("containerStatuses");
  if (statuses == status->end() || !statuses->is_array()) return 0;
  for (const auto& cs : *statuses) {
    total += std::clamp<int64_t>(common::IntOr(cs, "restartCount", 0), 0, INT32_MAX);
  }
  return total;
}

}  // namespace kubedl::reconciler
