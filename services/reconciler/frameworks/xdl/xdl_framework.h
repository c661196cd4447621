#pragma once
// XDLJob (SPEC §4–5): TASK_NAME/TASK_INDEX/XDL_CONFIG on every container, ZK_ADDR scoped to
// the job; done when enough workers finished (minFinishWorkNum or minFinishWorkRate).
#include "core/framework.h"

namespace kubedl::reconciler {

class XDLFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kXDLJob; }
  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type, int64_t index,
                           const FrameworkOptions& options, api::Json& pod) const override;
  bool IsMaster(const api::Job& job, std::string_view replica_type, int64_t index) const override;
  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override;
};

}  // namespace kubedl::reconciler
