#include "gang_backend.h"

#include "absl/strings/str_cat.h"

namespace kubedl::gang {

bool GangBackend::MergeSpec(const nlohmann::json& desired, nlohmann::json& existing_spec) const {
  bool changed = false;
  for (absl::string_view key : SpecKeys()) {
    const std::string name(key);
    if (!desired.contains(name) && existing_spec.contains(name)) {
      existing_spec.erase(name);
      changed = true;
    }
  }
  for (const auto& [key, value] : desired.items()) {
    if (!existing_spec.contains(key) || existing_spec[key] != value) {
      existing_spec[key] = value;
      changed = true;
    }
  }
  return changed;
}

void SetSchedulerName(absl::string_view ours, const v1::BindPodRequest& request,
                      v1::BindPodResponse& response) {
  const std::string& current = request.current_scheduler_name();
  if (current.empty()) {
    response.set_scheduler_name(std::string(ours));
  } else if (current != ours) {
    response.set_warning(absl::StrCat("the pod template names scheduler \"", current,
                                      "\", not \"", ours,
                                      "\": it is left as it is, so this pod may start "
                                      "outside its gang"));
  }
}

}  // namespace kubedl::gang
