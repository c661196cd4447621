#include "priority_classes.h"

#include "absl/time/clock.h"
#include "kubedl/kube/errors.h"

namespace kubedl::gang {
namespace {

const kube::ResourceRef& PriorityClassResource() {
  static const kube::ResourceRef ref{"scheduling.k8s.io", "v1", "priorityclasses", false};
  return ref;
}

}  // namespace

int32_t PriorityClasses::ValueOf(const std::string& name) {
  if (name.empty()) return 0;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = values_.find(name);
    if (it != values_.end() && now - it->second.read_at < ttl_) return it->second.value;
  }
  absl::StatusOr<kube::Object> priority_class = client_.Get(PriorityClassResource(), "", name);
  int32_t value = 0;
  if (priority_class.ok()) {
    auto found = priority_class->find("value");
    if (found != priority_class->end() && found->is_number_integer()) value = found->get<int32_t>();
  } else if (!kube::IsNotFound(priority_class.status())) {
    return 0;  // not remembered: the next call asks again
  }
  absl::MutexLock lock(&mu_);
  values_[name] = {value, now};
  return value;
}

}  // namespace kubedl::gang
