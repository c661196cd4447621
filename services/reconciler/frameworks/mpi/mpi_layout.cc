#include "frameworks/mpi/mpi_layout.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "kubedl/common/json_access.h"

namespace kubedl::reconciler::mpi {
namespace {

bool LimitsAGpu(const api::Json& pod_template) {
  const api::Json* containers = common::MemberPath(pod_template, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return false;
  for (const api::Json& c : *containers) {
    const api::Json* limits = common::MemberPath(c, {"resources", "limits"});
    if (limits == nullptr || !limits->is_object()) continue;
    for (const auto& item : limits->items()) {
      if (absl::StrContains(item.key(), "gpu")) return true;
    }
  }
  return false;
}

std::string ServiceAccountOf(const api::Json& pod_template) {
  const api::Json* spec = common::Member(pod_template, "spec");
  return spec != nullptr ? common::StringOr(*spec, "serviceAccountName") : "";
}

}  // namespace

std::string MpiLayout::LauncherName() const { return absl::StrCat(job, "-launcher"); }

std::string MpiLayout::ConfigMapName() const { return absl::StrCat(job, "-config"); }

MpiLayout MpiLayoutOf(const api::Job& job, bool with_workers) {
  MpiLayout layout;
  layout.job = job.name;
  layout.namespace_ = job.namespace_;
  layout.slots = job.spec.slots_per_worker.value_or(1);
  layout.main_container = job.spec.main_container.value_or("");
  const api::Replica* worker = with_workers ? job.FindReplica("Worker") : nullptr;
  if (worker != nullptr) {
    for (int64_t i = 0; i < worker->spec.replicas.value_or(0); ++i) {
      layout.workers.push_back(ReplicaName(job, "Worker", i));
    }
  }
  if (const api::Replica* launcher = job.FindReplica("Launcher")) {
    layout.gpu_launcher = LimitsAGpu(launcher->spec.template_spec);
    layout.service_account = ServiceAccountOf(launcher->spec.template_spec);
  }
  if (layout.service_account.empty()) layout.service_account = layout.LauncherName();
  return layout;
}

api::Json* MpiContainer(api::Json& pod, const std::string& main_container) {
  api::Json& containers = Containers(pod);
  for (api::Json& c : containers) {
    if (!main_container.empty() && c.is_object() &&
        common::StringOr(c, "name") == main_container) {
      return &c;
    }
  }
  if (containers.empty() || !containers[0].is_object()) return nullptr;
  return &containers[0];
}

}  // namespace kubedl::reconciler::mpi
