#pragma once
// TFJob (SPEC §4–5): TF_CONFIG on the tensorflow container; Chief/Master, else worker 0, leads.
#include "core/framework.h"

namespace kubedl::reconciler {

class TensorFlowFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kTFJob; }
  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type, int64_t index,
                           const FrameworkOptions& options, api::Json& pod) const override;
  bool IsMaster(const api::Job& job, std::string_view replica_type, int64_t index) const override;
  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override;
};

}  // namespace kubedl::reconciler
