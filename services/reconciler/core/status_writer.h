#pragma once
// A job's status as one pass changes it (SPEC §5): conditions, each turned True recorded as an
// event; replicaStatuses; and the write, retried on a conflict on the newest version of the
// job (status is the reconciler's alone), with the metrics told of every condition that moved.
#include <map>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "core/job_event_emitter.h"
#include "core/written_state.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::reconciler {

// The condition and event reason of a job the reconciler refuses to run (SPEC §3 checks
// failed): "<Kind>FailedValidation", as training-operator names it (decision 13.1).
inline constexpr std::string_view kFailedValidation = "FailedValidation";
std::string InvalidSpecReason(api::JobKind kind);

class StatusWriter {
 public:
  // `job` is edited in place: its status is what Write() writes. `job_events` may be nullptr.
  StatusWriter(kube::Client& client, kube::EventRecorder& events, JobEventEmitter* job_events,
               WrittenState& written, std::string key, api::Job& job,
               const kube::Object& job_object, absl::Time now);

  const std::string& now() const { return now_; }
  // "<Kind> <name> is <what>." as condition messages say it.
  std::string JobIs(std::string_view what) const;

  // Sets condition `type`; its reason is the kind's name + `suffix`. An event of `event_type`
  // when the condition turns True.
  void SetCondition(std::string_view type, std::string_view status, std::string_view suffix,
                    const std::string& message, std::string_view event_type = "Normal");
  // Failed=True (reason kind + `suffix`) and completionTime.
  void Fail(std::string_view suffix, const std::string& message);
  // Running=False and Failed=True with reason <Kind>FailedValidation, one Warning event, completionTime.
  void FailAsInvalid(const std::string& message);
  // The Created condition's message says what the job waits for; no event.
  void NoteCreatedMessage(const std::string& message);
  void SetReplicaStatuses(const std::map<std::string, api::ReplicaStatus>& observed);
  // Every replica that was running counts as succeeded (the job succeeded).
  void CountActiveAsSucceeded();
  void ClearActive();

  // Writes the status when it changed. False when it could not be written (retry).
  bool Write();

 private:
  // The job the pass read still exists under its name (a failed read counts as yes: retry).
  bool SameJobStillThere(const kube::ResourceRef& resource);

  kube::Client& client_;
  kube::EventRecorder& events_;
  JobEventEmitter* job_events_;
  WrittenState& written_;
  const std::string key_;
  api::Job& job_;
  const kube::Object& object_;
  const std::string now_;
  const api::JobStatus old_status_;
};

}  // namespace kubedl::reconciler
