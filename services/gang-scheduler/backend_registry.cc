#include "backend_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kube_batch_backend.h"
#include "scheduler_plugins_backend.h"
#include "volcano_backend.h"

namespace kubedl::gang {

const std::vector<absl::string_view>& BackendNames() {
  static const std::vector<absl::string_view> names = {"volcano", "scheduler-plugins",
                                                      "kube-batch"};
  return names;
}

absl::StatusOr<std::unique_ptr<GangBackend>> MakeBackend(absl::string_view name,
                                                         const BackendOptions& options) {
  if (name == "volcano") return std::make_unique<VolcanoBackend>();
  if (name == "scheduler-plugins") {
    return std::make_unique<SchedulerPluginsBackend>(options.scheduler_plugins_scheduler_name);
  }
  if (name == "kube-batch") return std::make_unique<KubeBatchBackend>();
  return absl::InvalidArgumentError(absl::StrCat("unknown gang scheduler backend \"", name,
                                                 "\"; valid backends: ",
                                                 absl::StrJoin(BackendNames(), ", ")));
}

}  // namespace kubedl::gang
