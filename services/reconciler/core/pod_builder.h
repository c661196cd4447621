#pragma once
// A replica's pod and headless service, built from the job's template (SPEC §4): names,
// labels, owner reference, restart policy, the plug-in's env and pod changes, code sync and the
// gang binding. Builds only; creating is PodControl's job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/framework.h"
#include "core/gang_client.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/object.h"

namespace kubedl::reconciler {

// The controller owner reference every object the reconciler makes for a job carries.
kube::Object ControllerReference(const api::Job& job);

// An event the caller records on the job.
struct JobEventNote {
  std::string type;  // Normal | Warning
  std::string reason;
  std::string message;
};

struct BuiltPod {
  std::optional<kube::Object> pod;  // nullopt: it cannot be made now (see notes)
  std::vector<JobEventNote> notes;
  bool retry = false;  // nullopt pod because of a passing condition (the gang service)
};

class PodBuilder {
 public:
  // `gang` may be nullptr (no gang scheduling).
  PodBuilder(const api::Job& job, const Framework& framework, const FrameworkOptions& options,
             GangClient* gang);

  BuiltPod Pod(const api::Replica& replica, int64_t index) const;
  kube::Object Service(const api::Replica& replica, int64_t index) const;

 private:
  // The gang's labels, annotations and scheduler name; false when the pod must wait.
  bool BindToGang(const api::Replica& replica, int64_t index, api::Json& pod,
                  BuiltPod& built) const;

  const api::Job& job_;
  const Framework& framework_;
  const FrameworkOptions& options_;
  GangClient* gang_;
};

}  // namespace kubedl::reconciler
