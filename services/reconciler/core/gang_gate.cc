#include "core/gang_gate.h"

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {

GangGate::GangGate(GangClient* gang, kube::EventRecorder& events, const api::Job& job,
                   const kube::Object& job_object)
    : gang_(gang), events_(events), job_(job), object_(job_object) {}

GangVerdict GangGate::Admit() {
  if (gang_ == nullptr) return {};
  absl::StatusOr<GangState> gang = gang_->EnsureGang(job_);
  if (!gang.ok()) {
    const std::string message = absl::StrCat(
        ReplicaMessagePrefix(job_), " is waiting for gang scheduling: ", gang.status().message());
    events_.Record(object_, "Warning", "GangSchedulingFailed", message);
    // Rate-limited: backs off while the service is unreachable.
    return {.allows_pods = false, .created_message = message, .retry = true};
  }
  if (gang->admission == GangAdmission::kPending) {
    // The reconciler does not watch PodGroups: poll.
    return {.allows_pods = false,
            .created_message = absl::StrCat(
                ReplicaMessagePrefix(job_),
                " is waiting for its gang to be admitted (PodGroup phase ",
                gang->backend_phase.empty() ? "unset" : gang->backend_phase, ")."),
            .poll_in = absl::Seconds(2)};
  }
  return {.created_message =
              absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is created.")};
}

bool GangGate::Release() {
  if (gang_ == nullptr) return true;
  absl::Status s = gang_->DeleteGang(job_);
  if (s.ok()) return true;
  events_.Record(object_, "Warning", "GangDeleteFailed",
                 absl::StrCat("Deleting the gang failed: ", s.message()));
  return false;
}

}  // namespace kubedl::reconciler
