#include "core/job_pass.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/owned_object_control.h"
#include "core/pod_builder.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "core/run_policy.h"
#include "glog/logging.h"
#include "kubedl/api/conditions.h"
#include "kubedl/common/string_view.h"
#include "kubedl/kube/errors.h"

namespace kubedl::reconciler {
namespace {

// What one replica's address adds to a pod that lists them all ("<job>-worker-12.<ns>.svc:2222"
// in TF_CONFIG, with its quotes and comma), generously.
constexpr size_t kBytesPerAddress = 128;

// "<prefix><how> n <type> replica(s) failed." for each type, space-separated.
std::string ReplicaFailureMessage(const api::Job& job, std::string_view how,
                                  const std::map<std::string, int64_t>& counts) {
  std::string message;
  for (const auto& [type, n] : counts) {
    absl::StrAppend(&message, message.empty() ? "" : " ", ReplicaMessagePrefix(job), A(how), n,
                    " ", type, " replica(s) failed.");
  }
  return message;
}

}  // namespace

using kube::Object;

kube::ReconcileResult JobPass::Run() {
  if (job_.status.conditions.empty()) {
    status_.SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated,
                         status_.JobIs("created"));
    if (deps_.job_events != nullptr) deps_.job_events->JobCreated(object_);
  }
  const OwnedObjects owned = pods_.ObserveOwned();
  if (api::IsFinished(job_.status)) return Finish(owned);
  switch (DecideSuspend(job_)) {
    case SuspendStep::kSuspend: return Suspend(owned);
    case SuspendStep::kResume: Resume(); break;
    case SuspendStep::kNone: break;
  }
  if (!job_.status.start_time) job_.status.start_time = status_.now();
  if (DeadlinePassed()) return Finish(owned);
  const ReplicaObservation seen = Observe(owned);
  // Success is decided before anything is created: a pass that sees the job finish must not
  // create the pods and services a cleanPodPolicy is about to remove.
  const JobProgress progress = Judge(seen);
  if (api::IsFinished(job_.status)) return Finish(owned);
  SyncOwnedObjects(seen.states);
  if (auto refused = CreateMissing(seen)) {
    status_.FailAsInvalid(*refused);
    return Finish(owned);
  }
  if (!seen.recreated.empty()) {
    status_.SetCondition(api::kJobRestarting, api::kConditionTrue, api::kJobRestarting,
                         ReplicaFailureMessage(job_, " is restarting because ", seen.recreated),
                         "Warning");
  } else if (progress == JobProgress::kRunning) {
    status_.SetCondition(api::kJobRunning, api::kConditionTrue, api::kJobRunning,
                         status_.JobIs("running"));
  }
  if (deps_.job_events != nullptr) {
    deps_.job_events->PodsObserved(object_, owned.pods, TotalReplicas(job_));
  }
  return WriteStatus();
}

bool JobPass::DeadlinePassed() {
  const TimedDecision deadline = CheckActiveDeadline(job_, now_);
  if (deadline.recheck_in) Requeue(*deadline.recheck_in);
  if (!deadline.due) return false;
  status_.Fail("DeadlineExceeded",
               absl::StrCat(A(job_.descriptor().name), " ", job_.name,
                            " has run longer than its active deadline of ",
                            *api::EffectiveRunPolicy(job_.spec).active_deadline_seconds,
                            " seconds."));
  return true;
}

ReplicaObservation JobPass::Observe(const OwnedObjects& owned) {
  for (const Object& pod : owned.pods) deps_.expectations->CreateObserved(key_, kube::Name(pod));
  for (const Object& svc : owned.services) {
    deps_.expectations->CreateObserved(key_, absl::StrCat("svc/", kube::Name(svc)));
  }
  ReplicaObservation seen =
      ObserveReplicas(job_, owned.pods, owned.services, *deps_.expectations, key_);
  CarryOut(seen.actions);
  status_.SetReplicaStatuses(seen.replica_statuses);
  return seen;
}

JobProgress JobPass::Judge(const ReplicaObservation& seen) {
  const int64_t recreations = CountRecreations(seen.RecreatedCount());
  if (!seen.permanent_failures.empty()) {
    status_.Fail(api::kJobFailed,
                 ReplicaFailureMessage(job_, " has failed because ", seen.permanent_failures));
    return JobProgress::kNotRunning;
  }
  if (BackoffLimitExceeded(job_, recreations, seen.container_restarts)) {
    status_.Fail("BackoffLimitExceeded",
                 absl::StrCat(ReplicaMessagePrefix(job_),
                              " has failed because it has reached the specified backoff limit (",
                              *api::EffectiveRunPolicy(job_.spec).backoff_limit, ")."));
    return JobProgress::kNotRunning;
  }
  const JobProgress progress =
      seen.recreated.empty() ? framework_.Progress(job_, seen.states) : JobProgress::kNotRunning;
  if (progress == JobProgress::kSucceeded) {
    status_.SetCondition(api::kJobSucceeded, api::kConditionTrue, api::kJobSucceeded,
                         absl::StrCat(ReplicaMessagePrefix(job_), " successfully completed."));
    if (!job_.status.completion_time) job_.status.completion_time = status_.now();
    status_.CountActiveAsSucceeded();
  }
  return progress;
}

kube::ReconcileResult JobPass::Suspend(const OwnedObjects& owned) {
  if (!pods_.DeleteAll(owned, /*only_unfinished=*/false)) result_.error = true;
  DeleteGang();
  SyncOwnedObjects({});
  if (!api::IsSuspended(job_.status)) {
    status_.SetCondition(api::kJobSuspended, api::kConditionTrue, api::kJobSuspended,
                         status_.JobIs("suspended"));
    status_.SetCondition(api::kJobRunning, api::kConditionFalse, api::kJobSuspended,
                         status_.JobIs("suspended"));
  }
  status_.ClearActive();
  return WriteStatus();
}

void JobPass::Resume() {
  status_.SetCondition(api::kJobSuspended, api::kConditionFalse, api::kJobResumed,
                       status_.JobIs("resumed"));
  deps_.events->Record(object_, "Normal", api::ConditionReason(job_.kind, api::kJobResumed),
                       status_.JobIs("resumed"));
  job_.status.start_time = status_.now();
}

kube::ReconcileResult JobPass::Finish(const OwnedObjects& owned) {
  // Pods that end after their job did (cleanPodPolicy None) still count in the exit codes.
  if (deps_.job_events != nullptr) {
    for (const Object& pod : owned.pods) {
      if (PhaseOf(pod) == "Succeeded") deps_.job_events->PodExited(object_, pod, 0);
      if (PhaseOf(pod) == "Failed") {
        deps_.job_events->PodExited(object_, pod,
                                    ClassifyFailure(pod, job_).exit_code);
      }
    }
  }
  const CleanPodPolicy clean = CleanPodPolicyOf(job_);
  if (clean != CleanPodPolicy::kNone &&
      !pods_.DeleteAll(owned, /*only_unfinished=*/clean == CleanPodPolicy::kRunning)) {
    result_.error = true;
  }
  DeleteGang();
  const TimedDecision ttl = CheckTimeToLive(job_, now_);
  if (ttl.due) {
    kube::DeleteOptions options;
    options.propagation_policy = "Background";
    options.precondition_uid = job_.uid;
    absl::Status s = deps_.client->Delete(JobResource(job_.descriptor()), job_.namespace_,
                                          job_.name, options);
    if (!s.ok() && !kube::IsNotFound(s)) {
      LOG(WARNING) << key_ << ": deleting after TTL: " << s;
      result_.error = true;
    }
    return result_;
  }
  if (ttl.recheck_in) Requeue(*ttl.recheck_in);
  return WriteStatus();
}

void JobPass::CarryOut(const std::vector<ReplicaAction>& actions) {
  for (const ReplicaAction& action : actions) {
    switch (action.type) {
      case ReplicaAction::Type::kDeleteService:
        if (!pods_.DeleteService(*action.object)) result_.error = true;
        break;
      case ReplicaAction::Type::kDeletePod:
        if (!pods_.DeletePod(*action.object, action.why)) result_.error = true;
        break;
      case ReplicaAction::Type::kPodExited:
        // Exit code 0 counts in kubedl_pods_exit_code_total too (the emitter sends once per pod).
        if (deps_.job_events != nullptr) {
          deps_.job_events->PodExited(object_, *action.object, action.failure.exit_code);
        }
        if (action.failed) {
          deps_.events->Record(object_, action.failure.retryable ? "Normal" : "Warning",
                               "ExitedWithCode",
                               absl::StrCat("Pod: ", job_.namespace_, ".",
                                            kube::Name(*action.object), " exited with code ",
                                            action.failure.exit_code,
                                            action.failure.message.empty() ? "" : ": ",
                                            action.failure.message));
        }
        break;
    }
  }
}

// Recreations are counted once, when the pod is deleted, and kept on the job.
int64_t JobPass::CountRecreations(int64_t recreated_now) {
  const int64_t recreations =
      RecreationCount(job_, written_.Recreations(key_, job_.uid)) + recreated_now;
  written_.RememberRecreations(key_, job_.uid, recreations);
  if (recreated_now > 0) {
    Object patch = {
        {"metadata", {{"annotations", {{kRecreationsAnnotation, absl::StrCat(recreations)}}}}}};
    auto patched = deps_.client->Patch(JobResource(job_.descriptor()), job_.namespace_,
                                       job_.name, kube::PatchType::kMerge, patch);
    if (!patched.ok()) LOG(WARNING) << key_ << ": recording recreations: " << patched.status();
  }
  return recreations;
}

void JobPass::SyncOwnedObjects(const ReplicaStates& states) {
  const std::vector<kube::ResourceRef> resources = framework_.OwnedResources();
  if (resources.empty()) return;
  OwnedObjectControl control(*deps_.client, *deps_.events, key_, job_, object_);
  if (!control.Sync(resources,
                    framework_.DesiredObjects(job_, states, deps_.framework_options))) {
    result_.error = true;
  }
}

std::optional<std::string> JobPass::CreateMissing(const ReplicaObservation& seen) {
  std::vector<CreateRequest> creates;
  if (!seen.missing_pods.empty() && GangAllowsPods()) {
    for (const MissingReplica& m : seen.missing_pods) creates.push_back({m.replica, m.index, true});
  }
  if (framework_.HeadlessServices()) {
    for (const MissingReplica& m : seen.missing_services) {
      creates.push_back({m.replica, m.index, false});
    }
  }
  // A pod is about as large as its job plus, for the kinds that list every address in its env
  // (TF_CONFIG, XDL_CONFIG), an address per replica.
  const size_t object_bytes =
      job_bytes_ +
      static_cast<size_t>(std::max<int64_t>(TotalReplicas(job_), 0)) * kBytesPerAddress;
  const PodBuilder builder(job_, framework_, deps_.framework_options, deps_.gang);
  CreateOutcome outcome =
      pods_.CreateAll(creates, builder, object_bytes, [this] { return Cancelled(); });
  if (outcome.failed) result_.error = true;
  if (outcome.retry) result_.requeue = true;
  if (outcome.look_again_soon) Requeue(absl::Seconds(1));
  return outcome.refused_as_invalid;
}

bool JobPass::Cancelled() {
  if (deps_.stopping != nullptr && deps_.stopping->HasBeenNotified()) {
    Requeue(absl::Seconds(1));
    return true;
  }
  const kube::ObjectCache* jobs = deps_.jobs(job_.kind);
  std::optional<Object> current =
      jobs != nullptr ? jobs->Get(job_.namespace_, job_.name) : std::nullopt;
  if (!current || kube::Uid(*current) != job_.uid || kube::BeingDeleted(*current)) {
    LOG(INFO) << key_ << ": the job was deleted; its pass stops creating";
    return true;
  }
  return false;
}

bool JobPass::GangAllowsPods() {
  if (gang_allows_) return *gang_allows_;
  const GangVerdict verdict = gang_.Admit();
  if (!verdict.created_message.empty()) status_.NoteCreatedMessage(verdict.created_message);
  if (verdict.retry) result_.requeue = true;
  if (verdict.poll_in) Requeue(*verdict.poll_in);
  gang_allows_ = verdict.allows_pods;
  return *gang_allows_;
}

void JobPass::DeleteGang() {
  if (!gang_.Release()) result_.requeue = true;
}

}  // namespace kubedl::reconciler
