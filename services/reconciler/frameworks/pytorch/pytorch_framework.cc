// PyTorchJob (SPEC §4–5): torch.distributed / torchrun env on every container. A job with a
// Master gets its address and fixed ranks, and its workers wait for the Master's DNS name; a
// job without one leaves ranks and world size to torchrun's rendezvous. The Master decides
// (else all workers, or any worker when elastic). An elastic job with metrics owns an HPA.
#include "core/framework.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "frameworks/master_worker.h"
#include "frameworks/pytorch/pytorch_autoscaler.h"
#include "frameworks/replica_progress.h"

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
  // Success is an answer in the output, not nslookup's exit code: busybox 1.29 and later ask
  // every search domain and exit 1 when any of them is NXDOMAIN, even after one resolved.
  const std::string script = absl::StrCat(
      "for i in $(seq ", options.master_wait_retries, "); do nslookup ", master_host,
      " 2>/dev/null | grep -q '^Name:' && exit 0; echo waiting for ", master_host, "; sleep ",
      options.master_wait_interval_seconds, "; done; echo ", master_host,
      " did not resolve >&2; exit 1");
  return {{"name", "init-pytorch"},
          {"image", options.master_wait_image},
          {"command", {"sh", "-c", script}},
          {"resources",
           {{"requests", {{"cpu", "50m"}, {"memory", "20Mi"}}},
            {"limits", {{"cpu", "100m"}, {"memory", "20Mi"}}}}}};
}

// The Master's address and port, the world size and the pod's fixed rank. Only a job with a
// Master has them: without one torchrun assigns ranks, and a fixed WORLD_SIZE would go stale
// when the job scales.
void AddMasterEnv(const api::Job& job, const MasterWorkerLayout& layout,
                  std::string_view replica_type, int64_t index, api::Json& container) {
  const std::string host = ReplicaName(job, "Master", 0);
  const std::string port = absl::StrCat(ReplicaPort(*layout.master, job.descriptor()));
  const std::string rank = absl::StrCat(layout.RankOf(replica_type, index));
  AddEnv(container, "MASTER_ADDR", host);
  AddEnv(container, "PET_MASTER_ADDR", host);
  AddEnv(container, "MASTER_PORT", port);
  AddEnv(container, "PET_MASTER_PORT", port);
  AddEnv(container, "WORLD_SIZE", absl::StrCat(layout.total * ProcsPerNode(job)));
  AddEnv(container, "RANK", rank);
  AddEnv(container, "PET_NODE_RANK", rank);
}

// torchrun's elastic rendezvous: where it is, and how many nodes may join it.
void AddElasticEnv(const api::Job& job, const api::ElasticPolicy& elastic,
                   const MasterWorkerLayout& layout, api::Json& container) {
  const api::KindDescriptor& kind = job.descriptor();
  const std::string host = elastic.rdzv_host.value_or(ReplicaName(job, "Worker", 0));
  const int64_t port = elastic.rdzv_port.value_or(
      layout.worker != nullptr ? ReplicaPort(*layout.worker, kind) : kind.port);
  AddEnv(container, "PET_RDZV_ENDPOINT", absl::StrCat(host, ":", port));
  AddEnv(container, "PET_RDZV_BACKEND", elastic.rdzv_backend.value_or("c10d"));
  AddEnv(container, "PET_NNODES",
         absl::StrCat(elastic.min_replicas.value_or(layout.total), ":",
                      elastic.max_replicas.value_or(layout.total)));
  if (elastic.max_restarts) {
    AddEnv(container, "PET_MAX_RESTARTS", absl::StrCat(*elastic.max_restarts));
  }
  if (elastic.rdzv_id) AddEnv(container, "PET_RDZV_ID", *elastic.rdzv_id);
  if (!elastic.rdzv_conf.empty()) {
    AddEnv(container, "PET_RDZV_CONF",
           absl::StrJoin(elastic.rdzv_conf, ",", [](std::string* out, const api::RdzvConf& c) {
             absl::StrAppend(out, c.key, "=", c.value);
           }));
  }
  if (elastic.standalone) AddEnv(container, "PET_STANDALONE", *elastic.standalone ? "1" : "0");
}

class PyTorchFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kPyTorchJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type,
                           int64_t index, const FrameworkOptions& options,
                           api::Json& pod) const override {
    const MasterWorkerLayout layout = MasterWorkerLayoutOf(job);
    for (api::Json& container : Containers(pod)) {
      if (!container.is_object()) continue;
      AddEnv(container, "PYTHONUNBUFFERED", "1");
      if (layout.master != nullptr) AddMasterEnv(job, layout, replica_type, index, container);
      if (job.spec.nproc_per_node) {
        AddEnv(container, "PET_NPROC_PER_NODE", *job.spec.nproc_per_node);
      }
      if (job.spec.elastic_policy) {
        AddElasticEnv(job, *job.spec.elastic_policy, layout, container);
      } else {
        AddEnv(container, "PET_NNODES", absl::StrCat(layout.total));
      }
    }
    if (layout.master != nullptr && replica_type == "Worker") {
      api::Json& init = pod["spec"]["initContainers"];
      if (!init.is_array()) init = api::Json::array();
      init.push_back(MasterWaitContainer(ReplicaName(job, "Master", 0), options));
    }
    return absl::OkStatus();
  }

  // Master 0; without a Master, Worker 0 (SPEC §4), the default rendezvous host.
  bool IsMaster(const api::Job& job, std::string_view replica_type,
                int64_t index) const override {
    if (job.FindReplica("Master") != nullptr) return replica_type == "Master" && index == 0;
    return replica_type == "Worker" && index == 0;
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

  // Listed even for jobs that want no HPA, so the core deletes one the job no longer wants
  // (metrics removed, job suspended).
  std::vector<kube::ResourceRef> OwnedResources() const override {
    return {HorizontalPodAutoscalers()};
  }

  std::vector<OwnedObject> DesiredObjects(const api::Job& job, const ReplicaStates&,
                                          const FrameworkOptions&) const override {
    std::optional<OwnedObject> hpa = DesiredAutoscaler(job);
    if (!hpa) return {};
    return {std::move(*hpa)};
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(PyTorchFramework);

}  // namespace kubedl::reconciler
