#pragma once

// Discovery: which group/version/kinds the API server serves (e.g. is kubeflow.org/v1 TFJob
// installed? used by --workloads=auto). Answers are cached per group/version for `ttl`, so
// asking again is a map lookup; a missing group/version is cached too.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kubedl/kube/resource.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::kube {

class Discovery {
 public:
  virtual ~Discovery() = default;
  // False when the group/version is not served or has no such kind.
  virtual absl::StatusOr<bool> IsServed(const std::string& group, const std::string& version,
                                        const std::string& kind) = 0;
  // The resource (plural name, scope) serving a kind; NotFound when it is not served.
  virtual absl::StatusOr<ResourceRef> ResourceFor(const std::string& group,
                                                  const std::string& version,
                                                  const std::string& kind) = 0;
  // Drops the cache (e.g. after installing CRDs).
  virtual void Invalidate() = 0;
};

std::unique_ptr<Discovery> NewDiscovery(Client& client, absl::Duration ttl = absl::Seconds(30));

}  // namespace kubedl::kube
