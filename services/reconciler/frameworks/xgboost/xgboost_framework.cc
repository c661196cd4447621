// XGBoostJob (SPEC §4–5): rabit tracker env on every container; the Master decides.
#include "core/framework.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "frameworks/master_worker.h"
#include "frameworks/replica_progress.h"

namespace kubedl::reconciler {

namespace {

class XGBoostFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kXGBoostJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type,
                           int64_t index, const FrameworkOptions&,
                           api::Json& pod) const override {
    const api::KindDescriptor& kind = job.descriptor();
    const MasterWorkerLayout layout = MasterWorkerLayoutOf(job);
    std::vector<std::string> worker_addrs;
    if (layout.worker != nullptr) {
      for (int64_t i = 0; i < layout.worker->spec.replicas.value_or(1); ++i) {
        worker_addrs.push_back(ReplicaName(job, "Worker", i));
      }
    }
    for (api::Json& container : Containers(pod)) {
      if (!container.is_object()) continue;
      AddEnv(container, "MASTER_ADDR", ReplicaName(job, "Master", 0));
      AddEnv(container, "MASTER_PORT",
             absl::StrCat(layout.master != nullptr ? ReplicaPort(*layout.master, kind)
                                                   : kind.port));
      AddEnv(container, "WORLD_SIZE", absl::StrCat(layout.total));
      AddEnv(container, "RANK", absl::StrCat(layout.RankOf(replica_type, index)));
      AddEnv(container, "PYTHONUNBUFFERED", "1");
      if (layout.total > 1) {
        AddEnv(container, "WORKER_PORT",
               absl::StrCat(layout.worker != nullptr ? ReplicaPort(*layout.worker, kind)
                                                     : kind.port));
        AddEnv(container, "WORKER_ADDRS", absl::StrJoin(worker_addrs, ","));
      }
    }
    return absl::OkStatus();
  }

  bool IsMaster(const api::Job&, std::string_view replica_type,
                int64_t index) const override {
    return replica_type == "Master" && index == 0;
  }

  JobProgress Progress(const api::Job&, const ReplicaStates& states) const override {
    return LeaderProgress(states, "Master");
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(XGBoostFramework);

}  // namespace kubedl::reconciler
