#include "core/pod_builder.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/code_sync_injector.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "kubedl/common/json_access.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {

using kube::Object;

Object ControllerReference(const api::Job& job) {
  return {{"apiVersion", std::string(job.descriptor().api_version)},
          {"kind", std::string(A(job.descriptor().name))},
          {"name", job.name},
          {"uid", job.uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

PodBuilder::PodBuilder(const api::Job& job, const Framework& framework,
                       const FrameworkOptions& options, GangClient* gang)
    : job_(job), framework_(framework), options_(options), gang_(gang) {}

BuiltPod PodBuilder::Pod(const api::Replica& replica, int64_t index) const {
  BuiltPod built;
  const std::string name = ReplicaName(job_, replica.type, index);
  api::Json pod = api::Json::object();
  pod["apiVersion"] = "v1";
  pod["kind"] = "Pod";
  const api::Json& tmpl = replica.spec.template_spec;
  api::Json metadata = tmpl.contains("metadata") && tmpl["metadata"].is_object()
                           ? tmpl["metadata"] : api::Json::object();
  metadata["name"] = name;
  metadata["namespace"] = job_.namespace_;
  api::Json& labels = metadata["labels"];
  if (!labels.is_object()) labels = api::Json::object();
  for (const auto& [k, v] : ReplicaLabels(job_.kind, job_.name, replica.type, index,
                                          framework_.IsMaster(job_, replica.type, index))) {
    labels[k] = v;
  }
  metadata["ownerReferences"] = api::Json::array({api::Json(ControllerReference(job_))});
  pod["metadata"] = std::move(metadata);
  pod["spec"] = tmpl.contains("spec") && tmpl["spec"].is_object() ? tmpl["spec"]
                                                                  : api::Json::object();

  const std::string policy = replica.spec.restart_policy.value_or(
      std::string(job_.descriptor().default_restart_policy));
  const std::string pod_policy = policy == "ExitCode" ? "Never" : policy;
  if (pod["spec"].contains("restartPolicy") && pod["spec"]["restartPolicy"] != pod_policy) {
    built.notes.push_back({"Warning", "SetPodTemplateRestartPolicy",
                           "Restart policy in pod template will be overwritten by restart "
                           "policy in replica spec"});
  }
  pod["spec"]["restartPolicy"] = pod_policy;

  absl::Status decorated = framework_.DecoratePod(job_, replica.type, index, options_, pod);
  if (decorated.ok()) decorated = InjectCodeSync(job_, pod);
  if (!decorated.ok()) {
    // A spec problem: retrying the same spec cannot help.
    built.notes.push_back({"Warning", "FailedCreatePod",
                           absl::StrCat("Error creating pod ", name, ": ", decorated.message())});
    return built;
  }
  if (!BindToGang(replica, index, pod, built)) return built;
  // The same JSON in the client's type: a tree copy, no text in between.
  built.pod = Object(pod);
  return built;
}

bool PodBuilder::BindToGang(const api::Replica& replica, int64_t index, api::Json& pod,
                            BuiltPod& built) const {
  if (gang_ == nullptr) return true;
  const std::string scheduler = common::StringOr(pod["spec"], "schedulerName");
  absl::StatusOr<PodBinding> binding =
      gang_->BindPod(job_, replica.type, static_cast<int32_t>(index), scheduler);
  if (!binding.ok()) {
    // Never create a pod outside its gang.
    built.notes.push_back({"Warning", "GangSchedulingFailed",
                           absl::StrCat("Binding pod ", ReplicaName(job_, replica.type, index),
                                        " to its gang failed: ", binding.status().message())});
    built.retry = true;
    return false;
  }
  for (const auto& [k, v] : binding->labels) pod["metadata"]["labels"][k] = v;
  for (const auto& [k, v] : binding->annotations) pod["metadata"]["annotations"][k] = v;
  if (!binding->scheduler_name.empty()) pod["spec"]["schedulerName"] = binding->scheduler_name;
  if (!binding->warning.empty()) {
    built.notes.push_back({"Warning", "GangSchedulerName", binding->warning});
  }
  return true;
}

Object PodBuilder::Service(const api::Replica& replica, int64_t index) const {
  const api::KindDescriptor& kind = job_.descriptor();
  Object ports = Object::array();
  const api::Json* container = FrameworkContainer(replica.spec.template_spec, kind);
  const api::Json* container_ports = container ? common::Member(*container, "ports") : nullptr;
  if (container_ports != nullptr && container_ports->is_array()) {
    for (const api::Json& p : *container_ports) {
      const std::string port_name = common::StringOr(p, "name");
      const std::optional<int64_t> port = common::IntAt(p, "containerPort");
      if (port_name.empty() || !port) continue;
      ports.push_back({{"name", port_name}, {"port", *port}, {"targetPort", *port}});
    }
  }
  if (ports.empty()) {
    ports.push_back({{"name", std::string(kind.port_name)},
                     {"port", ReplicaPort(replica, kind)},
                     {"targetPort", ReplicaPort(replica, kind)}});
  }
  Object labels = Object::object();
  for (const auto& [k, v] : ReplicaLabels(job_.kind, job_.name, replica.type, index,
                                          framework_.IsMaster(job_, replica.type, index))) {
    labels[k] = v;
  }
  Object selector = {{std::string(kLabelOperatorName), OperatorName(job_.kind)},
                     {std::string(kLabelJobName), job_.name},
                     {std::string(kLabelReplicaType), absl::AsciiStrToLower(replica.type)},
                     {std::string(kLabelReplicaIndex), absl::StrCat(index)}};
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", ReplicaName(job_, replica.type, index)},
            {"namespace", job_.namespace_},
            {"labels", labels},
            {"ownerReferences", Object::array({ControllerReference(job_)})}}},
          {"spec", {{"clusterIP", "None"}, {"selector", selector}, {"ports", ports}}}};
}

}  // namespace kubedl::reconciler
