#include "core/status_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "core/run_policy.h"
#include "glog/logging.h"
#include "kubedl/api/conditions.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/common/string_view.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/resource.h"

namespace kubedl::reconciler {

using kube::Object;

namespace {
// Conflicts in a row before the pass gives up and retries with backoff.
constexpr int kWriteAttempts = 3;
}  // namespace

StatusWriter::StatusWriter(kube::Client& client, kube::EventRecorder& events,
                           JobEventEmitter* job_events, WrittenState& written, std::string key,
                           api::Job& job, const Object& job_object, absl::Time now)
    : client_(client), events_(events), job_events_(job_events), written_(written),
      key_(std::move(key)), job_(job), object_(job_object), now_(Rfc3339(now)),
      old_status_(job.status) {}

std::string StatusWriter::JobIs(std::string_view what) const {
  return absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is ", A(what), ".");
}

void StatusWriter::SetCondition(std::string_view type, std::string_view status,
                                std::string_view suffix, const std::string& message,
                                std::string_view event_type) {
  const std::string reason = api::ConditionReason(job_.kind, suffix);
  if (api::SetCondition(job_.status, type, status, reason, message, now_) &&
      status == api::kConditionTrue) {
    events_.Record(object_, std::string(event_type), reason, message);
  }
}

void StatusWriter::Fail(std::string_view suffix, const std::string& message) {
  SetCondition(api::kJobFailed, api::kConditionTrue, suffix, message, "Warning");
  if (!job_.status.completion_time) job_.status.completion_time = now_;
}

std::string InvalidSpecReason(api::JobKind kind) {
  return api::ConditionReason(kind, kFailedValidation);
}

void StatusWriter::FailAsInvalid(const std::string& message) {
  const std::string reason = InvalidSpecReason(job_.kind);
  api::SetCondition(job_.status, api::kJobRunning, api::kConditionFalse, reason, message, now_);
  if (api::SetCondition(job_.status, api::kJobFailed, api::kConditionTrue, reason, message,
                        now_)) {
    events_.Record(object_, "Warning", reason, message);
  }
  if (!job_.status.completion_time) job_.status.completion_time = now_;
}

void StatusWriter::NoteCreatedMessage(const std::string& message) {
  for (auto& c : job_.status.conditions) {
    if (c.type == api::kJobCreated && c.message != message) {
      c.message = message;
      c.last_update_time = now_;
    }
  }
}

void StatusWriter::SetReplicaStatuses(const std::map<std::string, api::ReplicaStatus>& observed) {
  for (const auto& [type, rs] : observed) job_.status.replica_statuses[type] = rs;
}

void StatusWriter::CountActiveAsSucceeded() {
  for (auto& [type, rs] : job_.status.replica_statuses) {
    rs.succeeded += rs.active;
    rs.active = 0;
  }
}

void StatusWriter::ClearActive() {
  for (auto& [type, rs] : job_.status.replica_statuses) rs.active = 0;
}

bool StatusWriter::Write() {
  if (job_.status == old_status_) return true;
  if (job_events_ != nullptr) {
    for (const auto& c : job_.status.conditions) {
      const api::JobCondition* before = api::FindCondition(old_status_, c.type);
      if (before == nullptr || before->status != c.status || before->reason != c.reason) {
        job_events_->ConditionChanged(object_, c, job_.status.start_time);
      }
    }
  }
  const kube::ResourceRef resource = JobResource(job_.descriptor());
  Object status = Object(api::ToJson(job_.status));
  Object current = object_;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    current["status"] = status;
    auto written = client_.UpdateStatus(resource, job_.namespace_, current);
    if (written.ok()) {
      if (api::IsFinished(job_.status)) written_.RememberFinished(key_, job_.uid, job_.status);
      return true;
    }
    if (kube::IsNotFound(written.status())) return true;
    if (!kube::IsConflict(written.status())) {
      LOG(WARNING) << key_ << ": writing status: " << written.status();
      return false;
    }
    // Someone else wrote the job (a user edit, our own annotation patch): status is ours alone,
    // so put it on the newest version.
    auto fresh = client_.Get(resource, job_.namespace_, job_.name);
    if (!fresh.ok()) return false;
    current = std::move(*fresh);
  }
  return false;
}

}  // namespace kubedl::reconciler
