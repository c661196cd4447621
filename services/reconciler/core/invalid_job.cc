#include "core/invalid_job.h"

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "core/run_policy.h"
#include "core/status_writer.h"
#include "glog/logging.h"
#include "kubedl/api/conditions.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/common/json_access.h"
#include "kubedl/common/string_view.h"
#include "kubedl/kube/errors.h"

namespace kubedl::reconciler {

using kube::Object;

// An invalid job fails once, with reason <Kind>FailedValidation and every problem's field path, and no
// pods; nothing else is done for it (no clean-up or TTL read from a spec that is wrong). It is
// not requeued: an edit of the job brings it back here.
kube::ReconcileResult RefuseInvalidJob(const ReconcilerDeps& deps, WrittenState& written_state,
                                       const std::string& key, api::JobKind kind,
                                       const Object& object, const api::FieldErrors& errors) {
  const api::KindDescriptor& d = api::Describe(kind);
  const std::string message =
      api::InvalidObjectMessage(d.name, d.group, kube::Name(object), errors);
  api::JobStatus status;
  if (const Object* written = common::Member(object, "status")) {
    auto parsed = api::ParseJobStatus(api::Json(*written));
    if (parsed.ok()) status = std::move(*parsed);
  }
  // Refused before, or finished otherwise: a finished job is left as it is (nothing is read
  // from an invalid spec, so neither its clean-up policy nor its TTL runs).
  if (api::IsFinished(status)) return {};
  LOG(WARNING) << key << ": " << message;
  const std::string now = Rfc3339(deps.clock->Now());
  const bool created = !status.conditions.empty();
  if (!created) {
    api::SetCondition(status, api::kJobCreated, api::kConditionTrue,
                      api::ConditionReason(kind, api::kJobCreated),
                      absl::StrCat(A(d.name), " ", kube::Name(object), " is created."), now);
  }
  const std::string reason = InvalidSpecReason(kind);
  api::SetCondition(status, api::kJobRunning, api::kConditionFalse, reason, message, now);
  api::SetCondition(status, api::kJobFailed, api::kConditionTrue, reason, message, now);
  if (!status.completion_time) status.completion_time = now;
  deps.events->Record(object, "Warning", reason, message);
  if (deps.job_events != nullptr) {
    if (!created) deps.job_events->JobCreated(object);
    if (const api::JobCondition* failed = api::FindCondition(status, api::kJobFailed)) {
      deps.job_events->ConditionChanged(object, *failed, status.start_time);
    }
  }
  Object current = object;
  current["status"] = Object(api::ToJson(status));
  auto written =
      deps.client->UpdateStatus(JobResource(d), kube::Namespace(object), current);
  if (!written.ok() && !kube::IsNotFound(written.status())) {
    LOG(WARNING) << key << ": writing the FailedValidation status: " << written.status();
    return {.error = true};  // a conflict or an outage: retried with backoff
  }
  if (written.ok()) written_state.RememberFinished(key, kube::Uid(object), status);
  return {};
}

}  // namespace kubedl::reconciler
