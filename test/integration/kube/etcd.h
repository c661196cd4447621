#pragma once

// Forcing etcd compaction through its v3 JSON gateway, so watches from older revisions get
// 410 Gone. Used by the watch tests only.

#include <string>

#include "absl/status/statusor.h"

namespace kubedl::kube::testing_etcd {

// Compacts etcd at its current revision (physically). Returns the revision.
absl::StatusOr<int64_t> CompactNow();

}  // namespace kubedl::kube::testing_etcd
