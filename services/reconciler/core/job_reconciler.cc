#include "core/job_reconciler.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/invalid_job.h"
#include "core/job_pass.h"
#include "core/pod_identity.h"
#include "glog/logging.h"
#include "kubedl/api/conditions.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/api/json_parse.h"

namespace kubedl::reconciler {

using kube::Object;

JobReconciler::JobReconciler(ReconcilerDeps deps) : deps_(std::move(deps)) {}

// The error barrier: whatever one job holds, a throw ends its pass only. The job is retried
// with backoff (a bug of ours may be fixed by a restart; a bad shape is caught by validation
// first), and says why in a Warning event.
kube::ReconcileResult JobReconciler::Reconcile(const std::string& key) {
  std::string what;
  try {
    return ReconcileJob(key);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  LOG(ERROR) << key << ": reconcile failed: " << what;
  if (deps_.on_unexpected_error) deps_.on_unexpected_error(key);
  try {
    auto parsed = ParseJobKey(key);
    const kube::ObjectCache* jobs = parsed ? deps_.jobs(parsed->kind) : nullptr;
    std::optional<Object> object =
        jobs != nullptr ? jobs->Get(parsed->namespace_, parsed->name) : std::nullopt;
    if (object) {
      deps_.events->Record(*object, "Warning", "ReconcileError",
                           absl::StrCat("Reconciling the job failed: ", what));
    }
  } catch (...) {
    LOG(ERROR) << key << ": recording the reconcile failure failed too";
  }
  return {.error = true};
}

kube::ReconcileResult JobReconciler::ReconcileJob(const std::string& key) {
  auto parsed = ParseJobKey(key);
  if (!parsed) return {};
  const kube::ObjectCache* jobs = deps_.jobs(parsed->kind);
  if (jobs == nullptr) return {};
  std::optional<Object> object = jobs->Get(parsed->namespace_, parsed->name);
  if (!object) {
    deps_.expectations->Forget(key);
    written_.Forget(key);
    return {};
  }
  if (kube::BeingDeleted(*object)) return {};
  api::FieldErrors type_errors;
  size_t job_bytes = 0;
  absl::StatusOr<api::Job> job = [&] {
    const std::string text = object->dump(-1, ' ', false, Object::error_handler_t::replace);
    job_bytes = text.size();
    // ParseJson, not Json::parse: linear in the text however many keys a user put in one object.
    absl::StatusOr<api::Json> parsed = api::ParseJson(text);
    if (!parsed.ok()) return absl::StatusOr<api::Job>(parsed.status());
    return api::ParseJob(*std::move(parsed), &type_errors);
  }();
  if (!job.ok()) {
    if (type_errors.empty()) {
      type_errors.push_back(api::Invalid("kind", nullptr, std::string(job.status().message())));
    }
    return RefuseInvalidJob(deps_, written_, key, parsed->kind, *object, type_errors);
  }
  api::DefaultJob(*job);
  // The same validation as the webhook's: a job created while the webhook was down, or
  // admitted by failurePolicy Ignore, is refused here before anything is made for it.
  std::shared_ptr<const api::PodSchema> schema = deps_.pod_schema ? deps_.pod_schema() : nullptr;
  api::ValidationOptions validation = deps_.validation;
  validation.pod_schema = schema.get();
  api::FieldErrors errors = api::ValidateJob(*job, nullptr, validation);
  if (!errors.empty()) {
    return RefuseInvalidJob(deps_, written_, key, parsed->kind, *object, errors);
  }
  if (!api::IsFinished(job->status)) {
    // The cache may not show the terminal status this process just wrote; acting on the stale
    // copy would recreate pods that cleanPodPolicy removed.
    if (auto finished = written_.FinishedStatus(key, job->uid)) job->status = std::move(*finished);
  }
  JobPass pass(deps_, written_, key, std::move(*object), std::move(*job), job_bytes);
  return pass.Run();
}

}  // namespace kubedl::reconciler
