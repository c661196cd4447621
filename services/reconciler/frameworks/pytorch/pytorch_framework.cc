// PyTorchJob (SPEC §4–5): torch.distributed / torchrun env on every container; workers of a job
// with a Master wait for its DNS name; the Master decides (else all workers, or any worker when
// elastic).
#include "core/framework.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "frameworks/master_worker.h"
#include "frameworks/replica_progress.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {
namespace {

// nprocPerNode when it is a number ("auto", "cpu", "gpu" leave the count to torchrun).
int64_t ProcsPerNode(const api::Job& job) {
  int64_t n = 0;
  if (job.spec.nproc_per_node && absl::SimpleAtoi(*job.spec.nproc_per_node, &n) && n > 0) {
    return n;
  }
  return 1;
}

// Workers resolve the master's service before they start, so torch.distributed does not time
// out while the master pod is still being scheduled.
api::Json MasterWaitContainer(const std::string& master_host, const FrameworkOptions& options) {
  const std::string script = absl::StrCat(
      "for i in $(seq ", options.master_wait_retries, "); do nslookup ", master_host,
      " >/dev/null 2>&1 && exit 0; echo waiting for ", master_host, "; sleep ",
      options.master_wait_interval_seconds, "; done; echo ", master_host,
      " did not resolve >&2; exit 1");
  return {{"name", "init-pytorch"},
          {"image", options.master_wait_image},
          {"command", {"sh", "-c", script}},
          {"resources",
           {{"requests", {{"cpu", "50m"}, {"memory", "20Mi"}}},
            {"limits", {{"cpu", "100m"}, {"memory", "20Mi"}}}}}};
}

}  // namespace

namespace {

class PyTorchFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kPyTorchJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type,
                           int64_t index, const FrameworkOptions& options,
                           api::Json& pod) const override {
    const api::KindDescriptor& kind = job.descriptor();
    const MasterWorkerLayout layout = MasterWorkerLayoutOf(job);
    const api::Replica* master = layout.master;
    const api::Replica* worker = layout.worker;
    const int64_t total = layout.total;
    const int64_t rank = layout.RankOf(replica_type, index);
    const auto& elastic = job.spec.elastic_policy;
    const std::string master_host = ReplicaName(job.name, "Master", 0);

    for (api::Json& container : Containers(pod)) {
      if (!container.is_object()) continue;
      AddEnv(container, "PYTHONUNBUFFERED", "1");
      if (master != nullptr) {
        const std::string port = absl::StrCat(ReplicaPort(*master, kind));
        AddEnv(container, "MASTER_ADDR", master_host);
        AddEnv(container, "PET_MASTER_ADDR", master_host);
        AddEnv(container, "MASTER_PORT", port);
        AddEnv(container, "PET_MASTER_PORT", port);
      }
      AddEnv(container, "WORLD_SIZE", absl::StrCat(total * ProcsPerNode(job)));
      AddEnv(container, "RANK", absl::StrCat(rank));
      AddEnv(container, "PET_NODE_RANK", absl::StrCat(rank));
      if (job.spec.nproc_per_node) {
        AddEnv(container, "PET_NPROC_PER_NODE", *job.spec.nproc_per_node);
      }
      if (elastic) {
        const std::string host = elastic->rdzv_host.value_or(ReplicaName(job.name, "Worker", 0));
        const int64_t port = elastic->rdzv_port.value_or(
            worker != nullptr ? ReplicaPort(*worker, kind) : kind.port);
        AddEnv(container, "PET_RDZV_ENDPOINT", absl::StrCat(host, ":", port));
        AddEnv(container, "PET_RDZV_BACKEND", elastic->rdzv_backend.value_or("c10d"));
        const int64_t min = elastic->min_replicas.value_or(total);
        const int64_t max = elastic->max_replicas.value_or(total);
        AddEnv(container, "PET_NNODES", absl::StrCat(min, ":", max));
        if (elastic->max_restarts) {
          AddEnv(container, "PET_MAX_RESTARTS", absl::StrCat(*elastic->max_restarts));
        }
        if (elastic->rdzv_id) AddEnv(container, "PET_RDZV_ID", *elastic->rdzv_id);
        if (!elastic->rdzv_conf.empty()) {
          AddEnv(container, "PET_RDZV_CONF",
                 absl::StrJoin(elastic->rdzv_conf, ",",
                               [](std::string* out, const api::RdzvConf& c) {
                                 absl::StrAppend(out, c.key, "=", c.value);
                               }));
        }
        if (elastic->standalone) {
          AddEnv(container, "PET_STANDALONE", *elastic->standalone ? "1" : "0");
        }
      } else {
        AddEnv(container, "PET_NNODES", absl::StrCat(total));
      }
    }
    if (master != nullptr && replica_type == "Worker") {
      api::Json& init = pod["spec"]["initContainers"];
      if (!init.is_array()) init = api::Json::array();
      init.push_back(MasterWaitContainer(master_host, options));
    }
    return absl::OkStatus();
  }

  bool IsMaster(const api::Job&, std::string_view replica_type,
                int64_t index) const override {
    return replica_type == "Master" && index == 0;
  }

  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override {
    if (job.FindReplica("Master") != nullptr) return LeaderProgress(states, "Master");
    const ReplicaState* workers = FindState(states, "Worker");
    if (workers == nullptr) return JobProgress::kNotRunning;
    // Elastic training ends when any worker finishes: the others leave the rendezvous.
    if (job.spec.elastic_policy ? workers->succeeded > 0 : AllSucceeded(*workers)) {
      return JobProgress::kSucceeded;
    }
    return workers->active > 0 ? JobProgress::kRunning : JobProgress::kNotRunning;
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(PyTorchFramework);

}  // namespace kubedl::reconciler
