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
// Conflicts in a row (the server's own retries exhausted) before the pass gives up and
// retries with backoff.
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
  // Status is ours alone and one job is reconciled by one worker at a time, so the write carries
  // no resourceVersion: a PUT of the cached version conflicted on a quarter of a burst's writes
  // (the cache had not yet seen the pass's previous write), and each conflict cost a GET and a
  // second PUT that wrote the same status anyway. The uid test keeps the status off a job
  // deleted and created again under the same name.
  const Object patch = Object::array(
      {Object{{"op", "test"}, {"path", "/metadata/uid"}, {"value", job_.uid}},
       Object{{"op", "add"}, {"path", "/status"}, {"value", Object(api::ToJson(job_.status))}}});
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto written = client_.Patch(resource, job_.namespace_, job_.name, kube::PatchType::kJson,
                                 patch, {.subresource = "status"});
    if (written.ok()) {
      if (api::IsFinished(job_.status)) written_.RememberFinished(key_, job_.uid, job_.status);
      return true;
    }
    if (kube::IsNotFound(written.status())) return true;
    // The server gives up on conflicts only after retrying them itself; rare, so retry here too.
    if (kube::IsConflict(written.status())) continue;
    if (kube::IsInvalid(written.status()) && !SameJobStillThere(resource)) return true;
    LOG(WARNING) << key_ << ": writing status: " << written.status();
    return false;
  }
  return false;
}

bool StatusWriter::SameJobStillThere(const kube::ResourceRef& resource) {
  // A failed uid test and a status the server refuses both answer 422: only the job's
  // identity tells them apart.
  auto current = client_.Get(resource, job_.namespace_, job_.name);
  if (!current.ok()) return !kube::IsNotFound(current.status());
  return kube::Uid(*current) == job_.uid;
}

}  // namespace kubedl::reconciler
