#pragma once
// The HorizontalPodAutoscaler of an elastic PyTorchJob with `elasticPolicy.metrics`: it scales
// the Worker replicas through the job's scale subresource, between minReplicas and
// maxReplicas (the training operator's HPA, SPEC §4 "Elastic"). The core creates, updates and
// deletes it (core/owned_object_control.h).
#include <optional>

#include "core/framework.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/resource.h"

namespace kubedl::reconciler {

// autoscaling/v2 horizontalpodautoscalers, namespaced.
const kube::ResourceRef& HorizontalPodAutoscalers();

// The HPA named after the job, or nullopt when the job wants none: no metrics, no maxReplicas
// (the API server refuses an HPA without one), or the job is suspended (an HPA would scale the
// Workers of a job that has no pods).
std::optional<OwnedObject> DesiredAutoscaler(const api::Job& job);

}  // namespace kubedl::reconciler
