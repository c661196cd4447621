// XDLJob (SPEC §4–5): TASK_NAME/TASK_INDEX/XDL_CONFIG on every container, ZK_ADDR scoped to
// the job; done when enough workers finished (minFinishWorkNum or minFinishWorkRate).
#include "core/framework.h"

#include <string>

#include <algorithm>

#include "kubedl/common/json_access.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/pod_template.h"
#include "frameworks/cluster_spec.h"
#include "frameworks/replica_progress.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {

namespace {

class XDLFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kXDLJob; }

  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type,
                           int64_t index, const FrameworkOptions& options,
                           api::Json& pod) const override {
    const std::string config =
        ClusterSpec(job, replica_type, index, {.cluster_domain = options.cluster_domain}).dump();
    for (api::Json& container : Containers(pod)) {
      if (!container.is_object()) continue;
      AddEnv(container, "TASK_NAME", absl::AsciiStrToLower(A(replica_type)));
      AddEnv(container, "TASK_INDEX", absl::StrCat(index));
      AddEnv(container, "XDL_CONFIG", config);
      // Jobs sharing one ZooKeeper must not share a path: scope the user's address to the job.
      if (container.contains("env") && container["env"].is_array()) {
        for (api::Json& e : container["env"]) {
          if (common::StringOr(e, "name") == "ZK_ADDR" && e.contains("value") &&
              e["value"].is_string()) {
            std::string zk = e["value"].get<std::string>();
            const std::string suffix = absl::StrCat("/", job.uid);
            if (!absl::EndsWith(zk, suffix)) {
              while (!zk.empty() && zk.back() == '/') zk.pop_back();
              e["value"] = zk + suffix;
            }
          }
        }
      }
    }
    return absl::OkStatus();
  }

  bool IsMaster(const api::Job&, std::string_view, int64_t) const override { return false; }

  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override {
    int64_t total = 0, succeeded = 0, active = 0;
    for (const auto& [type, state] : states) {
      active += state.active;
      if (type == "Worker" || type == "ExtendRole") {
        total += state.replicas;
        succeeded += state.succeeded;
      }
    }
    if (total > 0) {
      int64_t needed = total;
      if (job.spec.min_finish_work_num) {
        needed = *job.spec.min_finish_work_num;
      } else if (job.spec.min_finish_work_rate) {
        needed = (total * *job.spec.min_finish_work_rate + 99) / 100;  // ceil
      }
      if (succeeded >= std::max<int64_t>(needed, 1)) return JobProgress::kSucceeded;
    }
    return active > 0 ? JobProgress::kRunning : JobProgress::kNotRunning;
  }
};

}  // namespace

KUBEDL_REGISTER_FRAMEWORK(XDLFramework);

}  // namespace kubedl::reconciler
