#include <array>

#include "core/framework.h"
#include "glog/logging.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler {
namespace {

// Indexed by JobKind; filled at static initialisation, read-only afterwards.
constexpr size_t kMaxKinds = 16;
std::array<const Framework*, kMaxKinds>& Registry() {
  static std::array<const Framework*, kMaxKinds> registry{};
  return registry;
}

}  // namespace

bool RegisterFramework(const Framework& framework) {
  const auto slot = static_cast<size_t>(framework.kind());
  CHECK_LT(slot, kMaxKinds) << "raise kMaxKinds";
  CHECK(Registry()[slot] == nullptr)
      << "two frameworks registered for " << api::Describe(framework.kind()).name;
  Registry()[slot] = &framework;
  return true;
}

const Framework* FindFramework(api::JobKind kind) {
  const auto slot = static_cast<size_t>(kind);
  return slot < kMaxKinds ? Registry()[slot] : nullptr;
}

const Framework& FrameworkFor(api::JobKind kind) {
  const Framework* framework = FindFramework(kind);
  CHECK(framework != nullptr) << "no framework registered for "
                              << api::Describe(kind).name;
  return *framework;
}

}  // namespace kubedl::reconciler
