#include "frameworks/xgboost/xgboost_framework.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "frameworks/replica_progress.h"

namespace kubedl::reconciler {

absl::Status XGBoostFramework::DecoratePod(const api::Job& job, std::string_view replica_type,
                                           int64_t index, const FrameworkOptions&,
                                           api::Json& pod) const {
  const api::KindDescriptor& kind = job.descriptor();
  const api::Replica* master = job.FindReplica("Master");
  const api::Replica* worker = job.FindReplica("Worker");
  const int64_t total = TotalReplicas(job);
  const int64_t masters = master != nullptr ? master->spec.replicas.value_or(1) : 0;
  const int64_t rank = index + (replica_type == "Worker" ? masters : 0);
  std::vector<std::string> worker_addrs;
  if (worker != nullptr) {
    for (int64_t i = 0; i < worker->spec.replicas.value_or(1); ++i) {
      worker_addrs.push_back(ReplicaName(job.name, "Worker", i));
    }
  }
  for (api::Json& container : Containers(pod)) {
    if (!container.is_object()) continue;
    AddEnv(container, "MASTER_ADDR", ReplicaName(job.name, "Master", 0));
    AddEnv(container, "MASTER_PORT",
           absl::StrCat(master != nullptr ? ReplicaPort(*master, kind) : kind.port));
    AddEnv(container, "WORLD_SIZE", absl::StrCat(total));
    AddEnv(container, "RANK", absl::StrCat(rank));
    AddEnv(container, "PYTHONUNBUFFERED", "1");
    if (total > 1) {
      AddEnv(container, "WORKER_PORT",
             absl::StrCat(worker != nullptr ? ReplicaPort(*worker, kind) : kind.port));
      AddEnv(container, "WORKER_ADDRS", absl::StrJoin(worker_addrs, ","));
    }
  }
  return absl::OkStatus();
}

bool XGBoostFramework::IsMaster(const api::Job&, std::string_view replica_type,
                                int64_t index) const {
  return replica_type == "Master" && index == 0;
}

JobProgress XGBoostFramework::Progress(const api::Job&, const ReplicaStates& states) const {
  return LeaderProgress(states, "Master");
}

}  // namespace kubedl::reconciler
