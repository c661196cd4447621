#include "kubedl/metrics/job_events.h"

#include <utility>

namespace kubedl::metrics {
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  const int64_t nanos = absl::ToUnixNanos(t);
  ts->set_seconds(nanos / 1'000'000'000);
  ts->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  if (ts->nanos() < 0) {
    ts->set_seconds(ts->seconds() - 1);
    ts->set_nanos(ts->nanos() + 1'000'000'000);
  }
}

v1::JobEvent Base(const v1::JobKey& job, absl::Time created, absl::Time time) {
  v1::JobEvent event;
  *event.mutable_job() = job;
  SetTimestamp(created, event.mutable_job_created());
  SetTimestamp(time, event.mutable_time());
  return event;
}

}  // namespace

v1::JobKey MakeJobKey(std::string uid, std::string kind, std::string ns, std::string name) {
  v1::JobKey key;
  key.set_uid(std::move(uid));
  key.set_kind(std::move(kind));
  key.set_namespace_(std::move(ns));
  key.set_name(std::move(name));
  return key;
}

v1::JobEvent JobCreatedEvent(const v1::JobKey& job, absl::Time created) {
  v1::JobEvent event = Base(job, created, created);
  event.mutable_created();
  return event;
}

v1::JobEvent PodReadyEvent(const v1::JobKey& job, absl::Time created, absl::Time ready,
                           std::string pod_name) {
  v1::JobEvent event = Base(job, created, ready);
  event.mutable_pod_ready()->set_pod_name(std::move(pod_name));
  return event;
}

v1::JobEvent AllPodsRunningEvent(const v1::JobKey& job, absl::Time created, absl::Time last_ready,
                                 int pods) {
  v1::JobEvent event = Base(job, created, last_ready);
  event.mutable_all_pods_running()->set_pods(pods);
  return event;
}

v1::JobEvent ConditionChangedEvent(const v1::JobKey& job, absl::Time created,
                                   absl::Time transition, std::string type, std::string status,
                                   std::string reason, absl::Time start) {
  v1::JobEvent event = Base(job, created, transition);
  v1::ConditionChanged* condition = event.mutable_condition_changed();
  condition->set_type(std::move(type));
  condition->set_status(std::move(status));
  condition->set_reason(std::move(reason));
  if (start != absl::InfinitePast()) SetTimestamp(start, condition->mutable_start_time());
  return event;
}

v1::JobEvent PodExitedEvent(const v1::JobKey& job, absl::Time created, absl::Time finished,
                            std::string pod_name, std::string pod_uid, int exit_code) {
  v1::JobEvent event = Base(job, created, finished);
  v1::PodExited* exited = event.mutable_pod_exited();
  exited->set_pod_name(std::move(pod_name));
  exited->set_pod_uid(std::move(pod_uid));
  exited->set_exit_code(exit_code);
  return event;
}

v1::JobEvent JobDeletedEvent(const v1::JobKey& job, absl::Time created, absl::Time deleted) {
  v1::JobEvent event = Base(job, created, deleted);
  event.mutable_deleted();
  return event;
}

v1::LiveJob MakeLiveJob(const v1::JobKey& job, std::string state) {
  v1::LiveJob live;
  *live.mutable_job() = job;
  live.set_state(std::move(state));
  return live;
}

}  // namespace kubedl::metrics
