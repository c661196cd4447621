#pragma once

#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "gang_backend.h"

namespace kubedl::gang {

struct BackendOptions {
  // schedulerName the scheduler-plugins backend puts on pods that name none.
  std::string scheduler_plugins_scheduler_name = "scheduler-plugins-scheduler";
};

// The backend names a process may be started with, in the order they are listed to users.
const std::vector<absl::string_view>& BackendNames();

// The backend with that name; an unknown name is an InvalidArgument listing the valid ones.
absl::StatusOr<std::unique_ptr<GangBackend>> MakeBackend(absl::string_view name,
                                                         const BackendOptions& options);

}  // namespace kubedl::gang
