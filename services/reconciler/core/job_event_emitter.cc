#include "core/job_event_emitter.h"

#include <algorithm>

#include "kubedl/common/json_access.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace kubedl::reconciler {
namespace {

std::optional<absl::Time> ParseTime(const std::string& s) {
  absl::Time t;
  std::string err;
  if (s.empty() || !absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return std::nullopt;
  return t;
}

void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  const int64_t nanos = absl::ToUnixNanos(t);
  ts->set_seconds(nanos / 1000000000);
  ts->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

std::string Meta(const kube::Object& obj, const char* field) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

v1::JobEvent Base(const kube::Object& job) {
  v1::JobEvent event;
  v1::JobKey* key = event.mutable_job();
  key->set_uid(Meta(job, "uid"));
  key->set_kind(common::StringOr(job, "kind"));
  key->set_namespace_(Meta(job, "namespace"));
  key->set_name(Meta(job, "name"));
  if (auto created = ParseTime(Meta(job, "creationTimestamp"))) {
    SetTime(event.mutable_job_created(), *created);
  }
  return event;
}

// When the pod's Ready condition last became True, if it is Ready.
std::optional<absl::Time> ReadySince(const kube::Object& pod) {
  const kube::Object* conditions = common::MemberPath(pod, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return std::nullopt;
  for (const auto& c : *conditions) {
    if (common::StringOr(c, "type") == "Ready" && common::StringOr(c, "status") == "True") {
      return ParseTime(common::StringOr(c, "lastTransitionTime"));
    }
  }
  return std::nullopt;
}

}  // namespace

JobEventEmitter::JobEventEmitter(metrics::JobEventSink& sink) : sink_(sink) {}

bool JobEventEmitter::FirstTime(const std::string& uid, const std::string& tag) {
  absl::MutexLock lock(&mu_);
  return sent_[uid].insert(tag).second;
}

void JobEventEmitter::JobCreated(const kube::Object& job) {
  if (!FirstTime(Meta(job, "uid"), "created")) return;
  v1::JobEvent event = Base(job);
  *event.mutable_time() = event.job_created();
  event.mutable_created();
  sink_.Send(std::move(event));
}

void JobEventEmitter::ConditionChanged(const kube::Object& job,
                                       const api::JobCondition& condition,
                                       const std::optional<std::string>& start_time) {
  v1::JobEvent event = Base(job);
  if (auto t = ParseTime(condition.last_transition_time)) SetTime(event.mutable_time(), *t);
  auto* changed = event.mutable_condition_changed();
  changed->set_type(condition.type);
  changed->set_status(condition.status);
  changed->set_reason(condition.reason);
  if (start_time) {
    if (auto t = ParseTime(*start_time)) SetTime(changed->mutable_start_time(), *t);
  }
  sink_.Send(std::move(event));
}

void JobEventEmitter::PodsObserved(const kube::Object& job, const std::vector<kube::Object>& pods,
                                   int64_t desired) {
  const std::string uid = Meta(job, "uid");
  std::optional<absl::Time> earliest, latest;
  std::string earliest_pod;
  int64_t running = 0;
  for (const auto& pod : pods) {
    auto ready = ReadySince(pod);
    if (!ready) continue;
    ++running;
    if (!earliest || *ready < *earliest) {
      earliest = ready;
      earliest_pod = Meta(pod, "name");
    }
    if (!latest || *ready > *latest) latest = ready;
  }
  if (earliest && FirstTime(uid, "pod-ready")) {
    v1::JobEvent event = Base(job);
    SetTime(event.mutable_time(), *earliest);
    event.mutable_pod_ready()->set_pod_name(earliest_pod);
    sink_.Send(std::move(event));
  }
  if (desired > 0 && running >= desired && FirstTime(uid, "all-running")) {
    v1::JobEvent event = Base(job);
    SetTime(event.mutable_time(), *latest);
    event.mutable_all_pods_running()->set_pods(static_cast<int32_t>(running));
    sink_.Send(std::move(event));
  }
}

void JobEventEmitter::PodExited(const kube::Object& job, const kube::Object& pod,
                                int32_t exit_code) {
  const std::string pod_uid = Meta(pod, "uid");
  if (!FirstTime(Meta(job, "uid"), absl::StrCat("exited/", pod_uid))) return;
  v1::JobEvent event = Base(job);
  std::optional<absl::Time> finished;
  const kube::Object* statuses = common::MemberPath(pod, {"status", "containerStatuses"});
  if (statuses != nullptr && statuses->is_array()) {
    for (const auto& cs : *statuses) {
      if (const kube::Object* terminated = common::MemberPath(cs, {"state", "terminated"})) {
        auto t = ParseTime(common::StringOr(*terminated, "finishedAt"));
        if (t && (!finished || *t > *finished)) finished = t;
      }
    }
  }
  SetTime(event.mutable_time(), finished.value_or(absl::Now()));
  auto* exited = event.mutable_pod_exited();
  exited->set_pod_name(Meta(pod, "name"));
  exited->set_pod_uid(pod_uid);
  exited->set_exit_code(exit_code);
  sink_.Send(std::move(event));
}

void JobEventEmitter::JobDeleted(const kube::Object& job) {
  v1::JobEvent event = Base(job);
  auto deleted_at = ParseTime(Meta(job, "deletionTimestamp"));
  SetTime(event.mutable_time(), deleted_at.value_or(absl::Now()));
  event.mutable_deleted();
  sink_.Send(std::move(event));
  absl::MutexLock lock(&mu_);
  sent_.erase(Meta(job, "uid"));
}

}  // namespace kubedl::reconciler
