// spec.elasticPolicy's defaults and checks common to PyTorchJob and PaddleJob.
#include "kinds/elastic_policy.h"

#include <string>

namespace kubedl::api::kinds {
namespace {

constexpr char kPath[] = "spec.elasticPolicy";

// A list of autoscaling/v2 MetricSpecs, handed to the HPA as written: only its shape is ours.
void ValidateMetrics(internal::KindValidation& v, const RawJson& metrics) {
  const std::string path = std::string(kPath) + ".metrics";
  if (!metrics.value.is_array()) {
    v.Add(Invalid(path, metrics.value, "must be a list of objects"));
    return;
  }
  for (size_t i = 0; i < metrics.value.size(); ++i) {
    if (!metrics.value[i].is_object()) {
      v.Add(Invalid(path + "[" + std::to_string(i) + "]", metrics.value[i],
                    "must be of type object"));
    }
  }
}

}  // namespace

void DefaultElasticBounds(Job& job) {
  if (!job.spec.elastic_policy) return;
  ElasticPolicy& ep = *job.spec.elastic_policy;
  if (!ep.min_replicas && ep.max_replicas) ep.min_replicas = ep.max_replicas;
  if (!ep.max_replicas && ep.min_replicas) ep.max_replicas = ep.min_replicas;
  const Replica* worker = job.FindReplica("Worker");
  if (!ep.min_replicas && !ep.max_replicas && worker != nullptr) {
    ep.min_replicas = ep.max_replicas = worker->spec.replicas;
  }
}

void ValidateElasticBounds(internal::KindValidation& v, const ElasticPolicy& ep) {
  const std::string path = kPath;
  if (ep.min_replicas && *ep.min_replicas < 1) {
    v.Add(Invalid(path + ".minReplicas", *ep.min_replicas, "must be greater than or equal to 1"));
  }
  if (ep.min_replicas && ep.max_replicas && *ep.max_replicas < *ep.min_replicas) {
    v.Add(Invalid(path + ".maxReplicas", *ep.max_replicas,
                  "must be greater than or equal to minReplicas"));
  }
  v.NonNegative(ep.max_restarts, path + ".maxRestarts");
  if (ep.metrics) ValidateMetrics(v, *ep.metrics);
}

}  // namespace kubedl::api::kinds
