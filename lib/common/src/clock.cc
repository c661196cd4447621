#include "kubedl/common/clock.h"

#include "absl/time/clock.h"

namespace kubedl::common {
namespace {

class WallClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock& RealClock() {
  static WallClock* clock = new WallClock();
  return *clock;
}

}  // namespace kubedl::common
