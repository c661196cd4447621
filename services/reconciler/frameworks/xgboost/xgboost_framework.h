#pragma once
// XGBoostJob (SPEC §4–5): rabit tracker env on every container; the Master decides.
#include "core/framework.h"

namespace kubedl::reconciler {

class XGBoostFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kXGBoostJob; }
  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type, int64_t index,
                           const FrameworkOptions& options, api::Json& pod) const override;
  bool IsMaster(const api::Job& job, std::string_view replica_type, int64_t index) const override;
  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override;
};

}  // namespace kubedl::reconciler
