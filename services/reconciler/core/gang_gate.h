#pragma once
// Gang scheduling as one pass sees it (SPEC §6): a job's pods are created only once its gang
// exists and the backend admitted it, and its gang goes when the job stops running.
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "core/gang_client.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/object.h"

namespace kubedl::reconciler {

struct GangVerdict {
  bool allows_pods = true;
  // What the Created condition's message should say now (empty: leave it).
  std::string created_message;
  bool retry = false;                      // the service failed: retry with backoff
  std::optional<absl::Duration> poll_in;   // admission pending: look again then
};

class GangGate {
 public:
  // `gang` nullptr: no gang scheduling, every verdict allows.
  GangGate(GangClient* gang, kube::EventRecorder& events, const api::Job& job,
           const kube::Object& job_object);

  // Ensures the gang and says whether pods may be created now.
  GangVerdict Admit();
  // Removes the gang; false when that failed (retry).
  bool Release();

 private:
  GangClient* gang_;
  kube::EventRecorder& events_;
  const api::Job& job_;
  const kube::Object& object_;
};

}  // namespace kubedl::reconciler
