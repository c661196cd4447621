#pragma once
// --workloads (SPEC §8): which job kinds this reconciler runs.
//   auto            every kind whose CRD the API server serves (also ones installed later)
//   *               all kinds
//   TFJob,PyTorchJob   a list; "-Kind" removes one ("*,-XDLJob", "auto,-tfjob")
// Kind names match case-insensitively; an unknown one is an error listing the valid names.
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler {

struct WorkloadSelection {
  bool discover = false;               // "auto": enable each kind once its CRD is served
  std::vector<api::JobKind> kinds;     // the kinds to run (or, with discover, to look for)
};

// `flag` is the flag's value when given; otherwise `env` (WORKLOADS_ENABLE) is used; when both
// are empty the selection is "auto".
absl::StatusOr<WorkloadSelection> ParseWorkloads(std::string_view flag, std::string_view env);

}  // namespace kubedl::reconciler
