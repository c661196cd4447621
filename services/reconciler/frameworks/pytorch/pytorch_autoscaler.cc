#include "frameworks/pytorch/pytorch_autoscaler.h"

#include <utility>

namespace kubedl::reconciler {
namespace {

bool Suspended(const api::Job& job) {
  return api::EffectiveRunPolicy(job.spec).suspend.value_or(false);
}

// The metrics as written; null counts as unset, like a missing key.
const api::Json* Metrics(const api::ElasticPolicy& elastic) {
  if (!elastic.metrics || elastic.metrics->value.is_null()) return nullptr;
  return &elastic.metrics->value;
}

}  // namespace

const kube::ResourceRef& HorizontalPodAutoscalers() {
  static const kube::ResourceRef kRef{"autoscaling", "v2", "horizontalpodautoscalers", true};
  return kRef;
}

std::optional<OwnedObject> DesiredAutoscaler(const api::Job& job) {
  const auto& elastic = job.spec.elastic_policy;
  if (!elastic || Suspended(job)) return std::nullopt;
  const api::Json* metrics = Metrics(*elastic);
  if (metrics == nullptr || !elastic->max_replicas) return std::nullopt;
  const api::KindDescriptor& kind = job.descriptor();
  api::Json spec = {{"scaleTargetRef", {{"apiVersion", kind.api_version},
                                        {"kind", kind.name},
                                        {"name", job.name}}}};
  // Optional in autoscaling/v2 (the API server defaults it to 1); defaulting sets it.
  if (elastic->min_replicas) spec["minReplicas"] = *elastic->min_replicas;
  spec["maxReplicas"] = *elastic->max_replicas;
  spec["metrics"] = *metrics;
  api::Json body = {{"apiVersion", HorizontalPodAutoscalers().ApiVersion()},
                    {"kind", "HorizontalPodAutoscaler"},
                    {"metadata", {{"name", job.name}}},
                    {"spec", std::move(spec)}};
  return OwnedObject{.resource = HorizontalPodAutoscalers(), .body = std::move(body)};
}

}  // namespace kubedl::reconciler
