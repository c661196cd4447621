#pragma once
// The webhook's HTTP routes: /mutate-<group>-<version>-<kind> and
// /validate-<group>-<version>-<kind> for every job kind (group dots become dashes, kind lower
// case), each counted and timed in the given registry.
#include <memory>
#include <string>

#include "kubedl/api/kind.h"
#include "kubedl/common/http_server.h"
#include "prometheus/registry.h"
#include "services/webhook/admission_reviewer.h"

namespace kubedl::webhook {

// "/mutate-kubeflow-org-v1-tfjob".
std::string WebhookPath(WebhookType type, const api::KindDescriptor& kind);

// Adds the admission routes of all kinds to `routes`. Metrics:
//   kubedl_webhook_requests_total{kind, webhook, operation, result}
//   kubedl_webhook_request_duration_seconds{kind, webhook}
void AddAdmissionRoutes(common::HttpRoutes& routes, prometheus::Registry& registry);

}  // namespace kubedl::webhook
