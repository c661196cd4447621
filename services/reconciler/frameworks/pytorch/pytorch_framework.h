#pragma once
// PyTorchJob (SPEC §4–5): torch.distributed / torchrun env on every container; workers of a job
// with a Master wait for its DNS name; the Master decides (else all workers, or any worker when
// elastic).
#include "core/framework.h"

namespace kubedl::reconciler {

class PyTorchFramework final : public Framework {
 public:
  api::JobKind kind() const override { return api::JobKind::kPyTorchJob; }
  absl::Status DecoratePod(const api::Job& job, std::string_view replica_type, int64_t index,
                           const FrameworkOptions& options, api::Json& pod) const override;
  bool IsMaster(const api::Job& job, std::string_view replica_type, int64_t index) const override;
  JobProgress Progress(const api::Job& job, const ReplicaStates& states) const override;
};

}  // namespace kubedl::reconciler
