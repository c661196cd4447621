#pragma once
// The Master/Worker layout PyTorch and XGBoost share (SPEC §4): the masters rank first, then
// the workers.
#include <cstdint>
#include <string_view>

#include "kubedl/api/job.h"

namespace kubedl::reconciler {

struct MasterWorkerLayout {
  const api::Replica* master = nullptr;  // nullptr: no Master replica
  const api::Replica* worker = nullptr;
  int64_t total = 0;    // every replica of the job
  int64_t masters = 0;  // Master replicas

  // The global rank of `replica_type` index `index`.
  int64_t RankOf(std::string_view replica_type, int64_t index) const {
    return index + (replica_type == "Worker" ? masters : 0);
  }
};

MasterWorkerLayout MasterWorkerLayoutOf(const api::Job& job);

}  // namespace kubedl::reconciler
