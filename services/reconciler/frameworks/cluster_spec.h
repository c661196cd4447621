#pragma once
// The TF_CONFIG shape shared by TensorFlow (TF_CONFIG) and XDL (XDL_CONFIG): every replica
// type's addresses under "cluster", the pod's own type and index under "task".
#include <cstdint>
#include <string_view>

#include "kubedl/api/job.h"
#include "kubedl/api/json.h"

namespace kubedl::reconciler {

struct ClusterSpecOptions {
  std::string_view cluster_domain;
  // Sparse form: every PS, and only the pod itself under its own type (index -> address).
  bool dynamic_worker = false;
  // Adds "environment": "cloud".
  bool environment_cloud = false;
};

api::Json ClusterSpec(const api::Job& job, std::string_view replica_type, int64_t index,
                      const ClusterSpecOptions& options);

}  // namespace kubedl::reconciler
