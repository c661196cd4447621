#include "frameworks/master_worker.h"

#include "core/pod_template.h"

namespace kubedl::reconciler {

MasterWorkerLayout MasterWorkerLayoutOf(const api::Job& job) {
  MasterWorkerLayout layout;
  layout.master = job.FindReplica("Master");
  layout.worker = job.FindReplica("Worker");
  layout.total = TotalReplicas(job);
  layout.masters = layout.master != nullptr ? layout.master->spec.replicas.value_or(1) : 0;
  return layout;
}

}  // namespace kubedl::reconciler
