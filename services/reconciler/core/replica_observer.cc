#include "core/replica_observer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "kubedl/common/string_view.h"
#include "kubedl/kube/resource.h"

namespace kubedl::reconciler {
namespace {

using kube::Object;

// The replica index an object's label names, or -1.
int64_t IndexOf(const Object& object) {
  int64_t index = -1;
  if (!absl::SimpleAtoi(LabelOf(object, kLabelReplicaIndex), &index)) return -1;
  return index;
}

class ReplicaTypeObserver {
 public:
  ReplicaTypeObserver(const api::Job& job, const api::Replica& replica, std::string_view type,
                      const Expectations& expectations, const std::string& job_key,
                      ReplicaObservation& out)
      : job_(job), replica_(replica), type_(type), lower_(absl::AsciiStrToLower(A(type))),
        expectations_(expectations), job_key_(job_key), out_(out),
        state_(out.states[std::string(type)]) {
    state_.replicas = replica.spec.replicas.value_or(1);
    size_ = static_cast<size_t>(std::max<int64_t>(state_.replicas, 0));
    state_.by_index.assign(size_, PodOutcome::kMissing);
    has_service_.assign(size_, false);
  }

  void Observe(const std::vector<Object>& pods, const std::vector<Object>& services) {
    for (const Object& svc : services) ObserveService(svc);
    for (const Object& pod : pods) ObservePod(pod);
    FindMissing();
    api::ReplicaStatus& rs = out_.replica_statuses[std::string(type_)];
    rs.active = state_.active;
    rs.succeeded = state_.succeeded;
    rs.failed = state_.failed;
    // The scale subresource's labelSelectorPath: lets an autoscaler find this type's pods.
    // Keys in sorted order, as the Kubeflow operators write it (labels.SelectorFromSet).
    rs.selector = absl::StrCat(A(kLabelJobName), "=", job_.name, ",", A(kLabelOperatorName), "=",
                               OperatorName(job_.kind), ",", A(kLabelReplicaType), "=", lower_);
  }

 private:
  void ObserveService(const Object& svc) {
    if (LabelOf(svc, kLabelReplicaType) != lower_) return;
    const int64_t index = IndexOf(svc);
    if (index >= state_.replicas) {
      out_.actions.push_back({ReplicaAction::Type::kDeleteService, &svc, ""});
    } else if (index >= 0) {
      has_service_[static_cast<size_t>(index)] = true;
    }
  }

  void ObservePod(const Object& pod) {
    if (LabelOf(pod, kLabelReplicaType) != lower_) return;
    const int64_t index = IndexOf(pod);
    if (index < 0) return;
    // Deleted by an earlier pass, and the informer has not shown it yet: not again.
    const bool delete_pending = expectations_.DeletePending(job_key_, kube::Uid(pod));
    if (index >= state_.replicas) {
      if (!delete_pending) {
        out_.actions.push_back({ReplicaAction::Type::kDeletePod, &pod, "scaled down"});
      }
      return;
    }
    PodOutcome& outcome = state_.by_index[static_cast<size_t>(index)];
    if (delete_pending) {
      outcome = PodOutcome::kPending;
      return;
    }
    out_.container_restarts += ContainerRestarts(pod);
    const std::string phase = PhaseOf(pod);
    if (phase == "Running") {
      outcome = PodOutcome::kRunning;
      ++state_.active;
    } else if (phase == "Succeeded") {
      outcome = PodOutcome::kSucceeded;
      ++state_.succeeded;
      out_.actions.push_back({ReplicaAction::Type::kPodExited, &pod, "", false, {.exit_code = 0}});
    } else if (phase == "Failed") {
      outcome = ObserveFailure(pod);
    } else {
      outcome = PodOutcome::kPending;
    }
  }

  PodOutcome ObserveFailure(const Object& pod) {
    const PodFailure failure = ClassifyFailure(pod, job_);
    out_.actions.push_back({ReplicaAction::Type::kPodExited, &pod, "", true, failure});
    const std::string policy = replica_.spec.restart_policy.value_or(
        std::string(job_.descriptor().default_restart_policy));
    if (RestartPolicyRecreates(policy, failure)) {
      out_.actions.push_back({ReplicaAction::Type::kDeletePod, &pod,
                              absl::StrCat("recreated after ", failure.reason)});
      ++out_.recreated[std::string(type_)];
      return PodOutcome::kPending;
    }
    ++state_.failed;
    ++out_.permanent_failures[std::string(type_)];
    return PodOutcome::kFailed;
  }

  void FindMissing() {
    for (int64_t i = 0; i < state_.replicas; ++i) {
      const std::string name = ReplicaName(job_, type_, i);
      if (state_.by_index[static_cast<size_t>(i)] == PodOutcome::kMissing &&
          !expectations_.CreatePending(job_key_, name)) {
        out_.missing_pods.push_back({&replica_, i});
      }
      if (!has_service_[static_cast<size_t>(i)] &&
          !expectations_.CreatePending(job_key_, absl::StrCat("svc/", name))) {
        out_.missing_services.push_back({&replica_, i});
      }
    }
  }

  const api::Job& job_;
  const api::Replica& replica_;
  const std::string_view type_;
  const std::string lower_;
  const Expectations& expectations_;
  const std::string& job_key_;
  ReplicaObservation& out_;
  ReplicaState& state_;
  size_t size_ = 0;
  std::vector<bool> has_service_;
};

}  // namespace

bool RestartPolicyRecreates(std::string_view restart_policy, const PodFailure& failure) {
  if (restart_policy == "OnFailure" || restart_policy == "Always") return true;
  if (restart_policy == "ExitCode") return failure.retryable;
  if (restart_policy == "Never") return failure.reason != "Error" && failure.reason != "Signal";
  return false;
}

int64_t RecreationCount(const api::Job& job, int64_t known_to_this_process) {
  int64_t annotated = 0;
  auto it = job.annotations.find(kRecreationsAnnotation);
  // Anyone may write the annotation: what is not wholly a count in range counts as none.
  if (it == job.annotations.end() || !absl::SimpleAtoi(it->second, &annotated) ||
      annotated < 0 || annotated > kMaxRecreations) {
    annotated = 0;
  }
  return std::clamp<int64_t>(std::max(annotated, known_to_this_process), 0, kMaxRecreations);
}

int64_t ReplicaObservation::RecreatedCount() const {
  int64_t total = 0;
  for (const auto& [type, n] : recreated) total += n;
  return total;
}

ReplicaObservation ObserveReplicas(const api::Job& job, const std::vector<Object>& pods,
                                   const std::vector<Object>& services,
                                   const Expectations& expectations, const std::string& job_key) {
  ReplicaObservation out;
  for (std::string_view type : job.descriptor().replica_types) {
    const api::Replica* replica = job.FindReplica(type);
    if (replica == nullptr) continue;
    ReplicaTypeObserver(job, *replica, type, expectations, job_key, out).Observe(pods, services);
  }
  return out;
}

std::string LabelOf(const Object& object, std::string_view key) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->contains("labels")) return "";
  const Object& labels = (*meta)["labels"];
  auto it = labels.find(std::string(key));
  return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string PhaseOf(const Object& pod) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return "";
  return status->value("phase", "");
}

}  // namespace kubedl::reconciler
