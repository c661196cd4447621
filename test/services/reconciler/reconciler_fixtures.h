#pragma once
// The TFJob "ns/job" (uid "job-uid") the job controller's tests run, as the API object and as
// a pass holds it; replica pods as the kubelet leaves them; and a Framework the test scripts.
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/framework.h"
#include "core/pod_identity.h"
#include "fake_cluster.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {

// A pod template with the one container "tensorflow" (and `restartPolicy` when given).
inline Object Template(const std::string& restart_policy_in_template = "") {
  Object spec = {{"containers", Object::array({{{"name", "tensorflow"}, {"image", "img"}}})}};
  if (!restart_policy_in_template.empty()) spec["restartPolicy"] = restart_policy_in_template;
  return {{"spec", spec}};
}

// The TFJob "ns/job" with these replica specs (and runPolicy when not empty).
inline Object TfJob(Object replica_specs, Object run_policy = Object::object()) {
  Object spec = {{"tfReplicaSpecs", std::move(replica_specs)}};
  if (!run_policy.empty()) spec["runPolicy"] = std::move(run_policy);
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "TFJob"},
          {"metadata", {{"name", "job"}, {"namespace", "ns"}, {"uid", "job-uid"}}},
          {"spec", std::move(spec)}};
}

// The replica specs of `n` workers under `policy`.
inline Object Workers(int n, const std::string& policy = "Never", Object tmpl = Template()) {
  return {{"Worker", {{"replicas", n}, {"restartPolicy", policy}, {"template", std::move(tmpl)}}}};
}

// One PS and `workers` workers, under the kind's default restart policy and under `policy`.
inline Object PsAndWorkers(int workers, const std::string& policy = "Never") {
  Object specs = Workers(workers, policy);
  specs["PS"] = {{"replicas", 1}, {"template", Template()}};
  return specs;
}

// The job as a pass holds it: parsed and defaulted.
inline api::Job JobOf(const Object& object) { return ParsedJob(object.dump()); }

// Pod `index` of replica type `type` of TFJob "ns/job" as the API server and the kubelet show
// it: labelled, owned by the job, in `phase` ("" leaves status out).
inline Object ReplicaPod(const std::string& type, int64_t index, const std::string& phase = "") {
  Object pod = {{"metadata",
                 {{"name", ReplicaName(api::Describe(api::JobKind::kTFJob), "job", type, index)},
                  {"namespace", "ns"},
                  {"uid", absl::StrCat("uid-", ReplicaName(api::Describe(api::JobKind::kTFJob), "job", type, index))}}}};
  for (const auto& [k, v] : ReplicaLabels(api::JobKind::kTFJob, "job", type, index, false)) {
    pod["metadata"]["labels"][k] = v;
  }
  pod["metadata"]["ownerReferences"] = Object::array(
      {{{"apiVersion", "kubeflow.org/v1"}, {"kind", "TFJob"}, {"name", "job"},
        {"uid", "job-uid"}, {"controller", true}}});
  if (!phase.empty()) pod["status"] = {{"phase", phase}};
  return pod;
}

// The same pod ended: its framework container terminated with `exit_code` (`reason` on the
// container, `pod_reason` on the pod when not empty) after `restarts` restarts.
inline Object EndedPod(const std::string& type, int64_t index, const std::string& phase,
                       int exit_code, const std::string& reason = "Error",
                       const std::string& pod_reason = "", int restarts = 0) {
  Object pod = ReplicaPod(type, index, phase);
  pod["status"]["containerStatuses"] = Object::array(
      {{{"name", "tensorflow"},
        {"restartCount", restarts},
        {"state", {{"terminated", {{"exitCode", exit_code}, {"reason", reason}}}}}}});
  if (!pod_reason.empty()) pod["status"]["reason"] = pod_reason;
  return pod;
}

// A job submitted to the in-memory API server, and what a pass of it holds: the object as
// stored (with its resourceVersion) and the parsed, defaulted job.
class SubmittedJobTest : public ::testing::Test {
 protected:
  void Submit(const Object& job) {
    cluster_.Put("tfjobs", job);
    object_ = *cluster_.Stored("tfjobs", kube::Name(job));
    job_ = JobOf(object_);
  }
  // The job as the API server holds it now.
  Object Stored() { return *cluster_.Stored("tfjobs", job_.name); }

  FakeCluster cluster_;
  RecordingEvents events_;
  SettableClock clock_;
  Object object_;
  api::Job job_;
};

// A plug-in the test scripts, for the kind it is made for: what DecoratePod answers, which
// replica leads, the progress it reports and the objects it wants the job to own.
class ScriptedFramework final : public Framework {
 public:
  explicit ScriptedFramework(api::JobKind kind = api::JobKind::kTFJob) : kind_(kind) {}

  api::JobKind kind() const override { return kind_; }
  absl::Status DecoratePod(const api::Job&, std::string_view replica_type, int64_t index,
                           const FrameworkOptions&, api::Json& pod) const override {
    if (!decorate_error.ok()) return decorate_error;
    pod["metadata"]["annotations"]["decorated"] =
        absl::StrCat(std::string(replica_type), "-", index);
    return absl::OkStatus();
  }
  bool IsMaster(const api::Job&, std::string_view replica_type, int64_t index) const override {
    return replica_type == master_type && index == 0;
  }
  JobProgress Progress(const api::Job&, const ReplicaStates&) const override { return progress; }
  std::vector<kube::ResourceRef> OwnedResources() const override { return owned_resources; }
  std::vector<OwnedObject> DesiredObjects(const api::Job& job, const ReplicaStates& states,
                                          const FrameworkOptions& options) const override {
    return desired ? desired(job, states, options) : std::vector<OwnedObject>{};
  }

  absl::Status decorate_error = absl::OkStatus();
  std::string master_type = "Chief";
  JobProgress progress = JobProgress::kNotRunning;
  std::vector<kube::ResourceRef> owned_resources;
  std::function<std::vector<OwnedObject>(const api::Job&, const ReplicaStates&,
                                         const FrameworkOptions&)>
      desired;

 private:
  api::JobKind kind_;
};

}  // namespace kubedl::reconciler::testing
