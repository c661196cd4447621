// TFJob (SPEC §4–5): TF_CONFIG on the tensorflow container; Chief/Master, else worker 0, leads.
#include "core/framework.h"

#include "frameworks/cluster_spec.h"
#include "core/pod_template.h"
#include "frameworks/replica_progress.h"

namespace kubedl::reconciler {
namespace {

// The replica type that leads the job when present: Chief, else Master.
const char* LeaderType(const api::Job& job) {
  if (job.FindReplica("Chief") != nullptr) return "Chief";
  if (job.FindReplica("Master") != nullptr) return "Master";
  return nullptr;
}

}  // namespace

namespace {

class TensorFlowFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kTFJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type,
                           int64_t index, const FrameworkOptions& options,
                           api::Json& pod) const override {
    // A single-process job needs no cluster description (TensorFlow runs it locally).
    if (TotalReplicas(job) == 1) return absl::OkStatus();
    api::Json* container = FrameworkContainer(pod, job.descriptor());
    if (container == nullptr) {
      return absl::InvalidArgumentError("the pod template has no container named \"tensorflow\"");
    }
    const bool dynamic = job.spec.enable_dynamic_worker.value_or(false);
    api::Json config = ClusterSpec(job, replica_type, index,
                                   {.cluster_domain = options.cluster_domain,
                                    .dynamic_worker = dynamic,
                                    .environment_cloud = !dynamic});
    AddEnv(*container, "TF_CONFIG", config.dump());
    return absl::OkStatus();
  }

  bool IsMaster(const api::Job& job, std::string_view replica_type,
                int64_t index) const override {
    const char* leader = LeaderType(job);
    if (leader != nullptr) return replica_type == leader && index == 0;
    return replica_type == "Worker" && index == 0;
  }

  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override {
    if (const char* leader = LeaderType(job)) return LeaderProgress(states, leader);
    const ReplicaState* workers = FindState(states, "Worker");
    if (workers == nullptr) return JobProgress::kNotRunning;
    const bool done = job.spec.success_policy.value_or("") == "AllWorkers"
                          ? AllSucceeded(*workers)
                          : !workers->by_index.empty() &&
                                workers->by_index[0] == PodOutcome::kSucceeded;
    if (done) return JobProgress::kSucceeded;
    return workers->active > 0 ? JobProgress::kRunning : JobProgress::kNotRunning;
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(TensorFlowFramework);

}  // namespace kubedl::reconciler
