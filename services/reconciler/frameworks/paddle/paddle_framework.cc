// PaddleJob (SPEC §11): paddle.distributed.launch finds its peers through PADDLE_MASTER, the
// address of one rendezvous pod: Master 0 in parameter-server (PS) mode, Worker 0 in collective
// mode. The rendezvous pod cannot know its own IP when it is created, so it reads it from the
// downward API (POD_IP_DUMMY) and PADDLE_MASTER refers to that variable.
#include "core/framework.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "frameworks/framework_port.h"
#include "frameworks/replica_progress.h"
#include "kubedl/common/json_access.h"

namespace kubedl::reconciler {
namespace {

// In this operator a Master replica means PS mode; collective jobs have only Workers.
bool IsPsMode(const api::Job& job) { return job.FindReplica("Master") != nullptr; }

// The replica type whose index 0 is the rendezvous, and which decides the job's progress.
std::string_view RendezvousType(const api::Job& job) {
  return IsPsMode(job) ? "Master" : "Worker";
}

bool HasEnv(const api::Json& container, std::string_view name) {
  const api::Json* env = common::Member(container, "env");
  if (env == nullptr || !env->is_array()) return false;
  for (const api::Json& e : *env) {
    if (common::StringOr(e, "name") == name) return true;
  }
  return false;
}

// POD_IP_DUMMY from status.podIP, unless the container already sets it (the user's wins, as
// with every other variable).
void AddPodIpEnv(api::Json& container) {
  if (HasEnv(container, "POD_IP_DUMMY")) return;
  api::Json& env = container["env"];
  if (!env.is_array()) env = api::Json::array();
  env.push_back({{"name", "POD_IP_DUMMY"},
                 {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}});
}

// The variables of one container, in the order SPEC §11 lists them.
void AddPaddleEnv(const api::Job& job, std::string_view replica_type, bool rendezvous,
                  const std::string& master_port, api::Json& container) {
  AddEnv(container, "PYTHONUNBUFFERED", "1");
  AddEnv(container, "PADDLE_JOB_ID", job.name);
  AddEnv(container, "PADDLE_NNODES", absl::StrCat(TotalReplicas(job)));
  if (rendezvous) {
    AddPodIpEnv(container);
    AddEnv(container, "PADDLE_MASTER", absl::StrCat("$(POD_IP_DUMMY):", master_port));
  } else {
    AddEnv(container, "PADDLE_MASTER",
           absl::StrCat(ReplicaName(job, RendezvousType(job), 0), ":", master_port));
  }
  if (!IsPsMode(job)) return;
  // Each pod of a PS job runs one server (Master) or one trainer (Worker).
  AddEnv(container, replica_type == "Master" ? "PADDLE_SERVER_NUM" : "PADDLE_TRAINER_NUM", "1");
}

class PaddleFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kPaddleJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type, int64_t index,
                           const FrameworkOptions&, api::Json& pod) const override {
    const std::string_view rendezvous_type = RendezvousType(job);
    const bool rendezvous = replica_type == rendezvous_type && index == 0;
    // The rendezvous listens on its own type's `master` port, whatever the pod's type.
    const std::string master_port = absl::StrCat(
        FrameworkContainerPort(job.FindReplica(rendezvous_type), job.descriptor()));
    for (api::Json& container : Containers(pod)) {
      if (!container.is_object()) continue;
      AddPaddleEnv(job, replica_type, rendezvous, master_port, container);
    }
    return absl::OkStatus();
  }

  // Every Master pod (PS mode); in collective mode Worker 0, the rendezvous, so the SDK's log
  // helpers that select job-role=master find it (SPEC §13.11).
  bool IsMaster(const api::Job& job, std::string_view replica_type,
                int64_t index) const override {
    if (IsPsMode(job)) return replica_type == "Master";
    return replica_type == "Worker" && index == 0;
  }

  // PS mode follows the Master (workers still running do not hold it back); collective mode
  // needs every Worker.
  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override {
    return LeaderProgress(states, RendezvousType(job));
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(PaddleFramework);

}  // namespace kubedl::reconciler
