#pragma once
// The webhook's HTTP routes: /mutate-<group>-<version>-<kind> and
// /validate-<group>-<version>-<kind> for every job kind (group dots become dashes, kind lower
// case), each counted and timed in the given registry.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kubedl/api/kind.h"
#include "kubedl/api/pod_schema.h"
#include "kubedl/api/validation.h"
#include "kubedl/common/http_server.h"
#include "prometheus/registry.h"
#include "services/webhook/admission_reviewer.h"

namespace kubedl::webhook {

// "/mutate-kubeflow-org-v1-tfjob".
std::string WebhookPath(WebhookType type, const api::KindDescriptor& kind);

struct AdmissionOptions {
  // The Pod schema each validation checks templates against, asked once per review (e.g.
  // PodSchemaSource::Current); empty: the built-in one.
  std::function<std::shared_ptr<const api::PodSchema>()> pod_schema;
  int64_t max_replicas_per_type = api::kDefaultMaxReplicasPerType;
  int64_t max_replicas_per_job = api::kDefaultMaxReplicasPerJob;
  // Deeper request bodies are answered 400 unparsed.
  int max_json_depth = api::kDefaultMaxJsonDepth;
};

// Adds the admission routes of all kinds to `routes`. Metrics:
//   kubedl_webhook_requests_total{kind, webhook, operation, result}
//   kubedl_webhook_request_duration_seconds{kind, webhook}
void AddAdmissionRoutes(common::HttpRoutes& routes, prometheus::Registry& registry,
                        const AdmissionOptions& options = {});

}  // namespace kubedl::webhook
