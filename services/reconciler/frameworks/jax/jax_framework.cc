// JAXJob (SPEC §12): jax.distributed.initialize() reads the coordinator (Worker 0) and this
// process's place among the others from the env; Worker 0 leads and every Worker decides.
#include "core/framework.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "frameworks/framework_port.h"
#include "frameworks/replica_progress.h"

namespace kubedl::reconciler {
namespace {

class JAXFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kJAXJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view, int64_t index,
                           const FrameworkOptions&, api::Json& pod) const override {
    const api::Replica* worker = job.FindReplica("Worker");
    const std::string port = absl::StrCat(FrameworkContainerPort(worker, job.descriptor()));
    // The bare pod name: JAX takes the port from COORDINATOR_PORT, not from the address.
    const std::string coordinator = ReplicaName(job, "Worker", 0);
    const std::string processes =
        absl::StrCat(worker != nullptr ? worker->spec.replicas.value_or(1) : 0);
    for (api::Json& container : Containers(pod)) {
      if (!container.is_object()) continue;
      AddEnv(container, "PYTHONUNBUFFERED", "1");
      AddEnv(container, "COORDINATOR_PORT", port);
      AddEnv(container, "COORDINATOR_ADDRESS", coordinator);
      AddEnv(container, "NUM_PROCESSES", processes);
      AddEnv(container, "PROCESS_ID", absl::StrCat(index));
    }
    return absl::OkStatus();
  }

  // Worker 0 is the coordinator.
  bool IsMaster(const api::Job&, std::string_view replica_type,
                int64_t index) const override {
    return replica_type == "Worker" && index == 0;
  }

  // Done when every Worker succeeded; running while one of them runs.
  JobProgress Progress(const api::Job&, const ReplicaStates& states) const override {
    return LeaderProgress(states, "Worker");
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(JAXFramework);

}  // namespace kubedl::reconciler
