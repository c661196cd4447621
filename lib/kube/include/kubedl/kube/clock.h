#pragma once

// The Kubernetes client reads time through the project's one Clock (kubedl/common/clock.h);
// these names keep kube::Clock and kube::RealClock() working for its callers.

#include "kubedl/common/clock.h"

namespace kubedl::kube {

using common::Clock;
using common::RealClock;

}  // namespace kubedl::kube
