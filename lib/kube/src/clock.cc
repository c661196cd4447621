#include "kubedl/kube/clock.h"

#include "absl/time/clock.h"

namespace kubedl::kube {
namespace {
class RealClockImpl final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};
}  // namespace

Clock& RealClock() {
  static RealClockImpl* clock = new RealClockImpl();
  return *clock;
}

}  // namespace kubedl::kube
