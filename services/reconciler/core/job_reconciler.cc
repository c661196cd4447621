#include "core/job_reconciler.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "kubedl/common/error_barrier.h"
#include "kubedl/common/json_access.h"
#include "kubedl/common/string_view.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/code_sync_injector.h"
#include "core/pod_failure.h"
#include "core/pod_identity.h"
#include "core/pod_template.h"
#include "core/slow_start.h"
#include "glog/logging.h"
#include "kubedl/api/conditions.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/label_selector.h"
#include "kubedl/kube/resource.h"

namespace kubedl::reconciler {
namespace {

using kube::Object;

// The largest slow-start batch of creates one pass sends at once.
constexpr size_t kMaxCreateBatch = 32;
// What the planned objects of one batch may add up to, in JSON text: each pod is at least as
// large as its job, so a job of 1 MB gets batches of 4, and a pass holds a bounded multiple of
// its job's size however many replicas it has (a 3,000-replica TFJob: batches of 10).
constexpr size_t kCreateBatchBytes = size_t{4} << 20;
// What one replica's address adds to a pod that lists them all ("<job>-worker-12.<ns>.svc:2222"
// in TF_CONFIG, with its quotes and comma), generously.
constexpr size_t kBytesPerAddress = 128;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseTime(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *s, &t, &err)) return std::nullopt;
  return t;
}

kube::ResourceRef JobResource(const api::KindDescriptor& kind) {
  return {std::string(kind.group), std::string(kind.version), std::string(kind.plural), true};
}

std::string Label(const Object& obj, std::string_view key) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->contains("labels")) return "";
  const Object& labels = (*meta)["labels"];
  auto it = labels.find(std::string(key));
  return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Phase(const Object& pod) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return "";
  return status->value("phase", "");
}

bool BeingDeleted(const Object& obj) {
  auto meta = obj.find("metadata");
  return meta != obj.end() && meta->contains("deletionTimestamp") &&
         !(*meta)["deletionTimestamp"].is_null();
}

Object OwnerReference(const api::Job& job) {
  return {{"apiVersion", std::string(job.descriptor().api_version)},
          {"kind", std::string(A(job.descriptor().name))},
          {"name", job.name},
          {"uid", job.uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

// The same JSON in the client's type: a tree copy, no text in between (a TF pod of a large job
// is hundreds of kilobytes).
Object ToKube(const api::Json& j) { return Object(j); }

std::string ReplicaMessagePrefix(const api::Job& job) {
  return absl::StrCat(A(job.descriptor().name), " ", job.namespace_, "/", job.name);
}

}  // namespace

// The state of one reconcile: the job, what was observed, what changed.
class JobReconciler::Pass {
 public:
  Pass(JobReconciler& r, std::string key, Object object, api::Job job, size_t job_bytes)
      : r_(r), deps_(r.deps_), key_(std::move(key)), job_bytes_(job_bytes),
        object_(std::move(object)),
        job_(std::move(job)), kind_(job_.descriptor()),
        framework_(FrameworkFor(job_.kind)), now_(deps_.clock->Now()), now_str_(Rfc3339(now_)),
        old_status_(job_.status) {}

  kube::ReconcileResult Run();

 private:
  struct Observed {
    std::vector<Object> pods;      // owned by the job, not being deleted
    std::vector<Object> services;  // owned by the job
  };

  Observed Observe();
  void Adopt(const kube::ObjectCache& cache, const kube::ResourceRef& ref,
             std::vector<Object>& owned);
  void SetCondition(std::string_view type, std::string_view status, std::string_view suffix,
                    const std::string& message, std::string_view event_type = "Normal");
  void Fail(std::string_view suffix, const std::string& message);
  void DeletePod(const Object& pod, std::string_view why);
  void DeleteService(const Object& service);
  void DeleteAll(const Observed& observed, bool only_unfinished);
  // A replica's pod or service that does not exist yet.
  struct MissingObject {
    const api::Replica* replica;
    int64_t index;
    bool is_pod;
  };
  // A pod or service this pass is about to create.
  struct PlannedCreate {
    bool is_pod = true;
    std::string name;
    Object body;
    bool sent = false;
    absl::StatusOr<Object> result = absl::UnknownError("not sent");
    std::string ExpectationName() const { return is_pod ? name : absl::StrCat("svc/", name); }
  };
  // Nothing when the pod cannot be made now (the reason is recorded as an event).
  std::optional<PlannedCreate> PlanPod(const api::Replica& replica, int64_t index);
  PlannedCreate PlanService(const api::Replica& replica, int64_t index);
  void CreateAll(const std::vector<MissingObject>& missing);
  void ReportCreate(const PlannedCreate& planned);
  // True when the pass should stop creating: the process stops, or the job is gone.
  bool Cancelled();
  // True when pods may be created now (no gang, or the gang exists and is admitted).
  bool GangAllowsPods();
  void DeleteGang();
  void NoteCreatedMessage(const std::string& message);
  kube::ReconcileResult FinishedJob(const Observed& observed);
  void WriteStatus();
  void Requeue(absl::Duration after) {
    if (after <= absl::ZeroDuration()) after = absl::Milliseconds(100);
    if (result_.requeue_after == absl::ZeroDuration() || after < result_.requeue_after) {
      result_.requeue_after = after;
    }
  }

  JobReconciler& r_;
  ReconcilerDeps& deps_;
  const std::string key_;
  const size_t job_bytes_;  // the job's size as JSON text
  Object object_;
  api::Job job_;
  const api::KindDescriptor& kind_;
  const Framework& framework_;
  const absl::Time now_;
  const std::string now_str_;
  const api::JobStatus old_status_;
  kube::ReconcileResult result_;
  // Set when the API server refused a create as invalid (422): the job fails with InvalidSpec.
  std::optional<std::string> refused_by_api_server_;
  bool gang_checked_ = false;
  bool gang_ok_ = false;
};

JobReconciler::JobReconciler(ReconcilerDeps deps) : deps_(std::move(deps)) {}

int64_t JobReconciler::Recreations(const std::string& uid, int64_t from_annotation) {
  absl::MutexLock lock(&mu_);
  int64_t& known = recreations_[uid];
  known = std::max(known, from_annotation);
  return known;
}

void JobReconciler::RememberFinished(const std::string& key, const std::string& uid,
                                     const api::JobStatus& status) {
  absl::MutexLock lock(&mu_);
  finished_[key] = {uid, status};
}

void JobReconciler::AddRecreations(const std::string& uid, int64_t total) {
  absl::MutexLock lock(&mu_);
  recreations_[uid] = std::max(recreations_[uid], total);
}

// The error barrier: whatever one job holds, a throw ends its pass only. The job is retried
// with backoff (a bug of ours may be fixed by a restart; a bad shape is caught by validation
// first), and says why in a Warning event.
kube::ReconcileResult JobReconciler::Reconcile(const std::string& key) {
  std::string what;
  try {
    return ReconcileJob(key);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  LOG(ERROR) << key << ": reconcile failed: " << what;
  if (deps_.on_unexpected_error) deps_.on_unexpected_error(key);
  try {
    auto parsed = ParseJobKey(key);
    const kube::ObjectCache* jobs = parsed ? deps_.jobs(parsed->kind) : nullptr;
    std::optional<Object> object =
        jobs != nullptr ? jobs->Get(parsed->namespace_, parsed->name) : std::nullopt;
    if (object) {
      deps_.events->Record(*object, "Warning", "ReconcileError",
                           absl::StrCat("Reconciling the job failed: ", what));
    }
  } catch (...) {
    LOG(ERROR) << key << ": recording the reconcile failure failed too";
  }
  return {.error = true};
}

kube::ReconcileResult JobReconciler::ReconcileJob(const std::string& key) {
  auto parsed = ParseJobKey(key);
  if (!parsed) return {};
  const kube::ObjectCache* jobs = deps_.jobs(parsed->kind);
  if (jobs == nullptr) return {};
  std::optional<Object> object = jobs->Get(parsed->namespace_, parsed->name);
  if (!object) {
    deps_.expectations->Forget(key);
    absl::MutexLock lock(&mu_);
    finished_.erase(key);
    return {};
  }
  if (BeingDeleted(*object)) return {};
  api::FieldErrors type_errors;
  size_t job_bytes = 0;
  absl::StatusOr<api::Job> job = [&] {
    const std::string text = object->dump(-1, ' ', false, Object::error_handler_t::replace);
    job_bytes = text.size();
    return api::ParseJob(api::Json::parse(text), &type_errors);
  }();
  if (!job.ok()) {
    if (type_errors.empty()) {
      type_errors.push_back(api::Invalid("kind", nullptr, std::string(job.status().message())));
    }
    return RefuseInvalidJob(key, parsed->kind, *object, type_errors);
  }
  api::DefaultJob(*job);
  // The same validation as the webhook's: a job created while the webhook was down, or
  // admitted by failurePolicy Ignore, is refused here before anything is made for it.
  std::shared_ptr<const api::PodSchema> schema = deps_.pod_schema ? deps_.pod_schema() : nullptr;
  api::ValidationOptions validation = deps_.validation;
  validation.pod_schema = schema.get();
  api::FieldErrors errors = api::ValidateJob(*job, nullptr, validation);
  if (!errors.empty()) return RefuseInvalidJob(key, parsed->kind, *object, errors);
  if (!api::IsFinished(job->status)) {
    // The cache may not show the terminal status this process just wrote; acting on the stale
    // copy would recreate pods that cleanPodPolicy removed.
    absl::MutexLock lock(&mu_);
    auto it = finished_.find(key);
    if (it != finished_.end() && it->second.first == job->uid) job->status = it->second.second;
  }
  Pass pass(*this, key, std::move(*object), std::move(*job), job_bytes);
  return pass.Run();
}

// An invalid job fails once, with reason InvalidSpec and every problem's field path, and no
// pods; nothing else is done for it (no clean-up or TTL read from a spec that is wrong). It is
// not requeued: an edit of the job brings it back here.
kube::ReconcileResult JobReconciler::RefuseInvalidJob(const std::string& key, api::JobKind kind,
                                                      const Object& object,
                                                      const api::FieldErrors& errors) {
  const api::KindDescriptor& d = api::Describe(kind);
  const std::string message = api::InvalidObjectMessage(d.name, d.group, kube::Name(object), errors);
  api::JobStatus status;
  if (const Object* written = common::Member(object, "status")) {
    auto parsed = api::ParseJobStatus(api::Json(*written));
    if (parsed.ok()) status = std::move(*parsed);
  }
  // Refused before, or finished otherwise: a finished job is left as it is (nothing is read
  // from an invalid spec, so neither its clean-up policy nor its TTL runs).
  if (api::IsFinished(status)) return {};
  LOG(WARNING) << key << ": " << message;
  const std::string now = Rfc3339(deps_.clock->Now());
  const bool created = !status.conditions.empty();
  if (!created) {
    api::SetCondition(status, api::kJobCreated, api::kConditionTrue,
                      api::ConditionReason(kind, api::kJobCreated),
                      absl::StrCat(A(d.name), " ", kube::Name(object), " is created."), now);
  }
  api::SetCondition(status, api::kJobRunning, api::kConditionFalse, kReasonInvalidSpec, message,
                    now);
  api::SetCondition(status, api::kJobFailed, api::kConditionTrue, kReasonInvalidSpec, message,
                    now);
  if (!status.completion_time) status.completion_time = now;
  deps_.events->Record(object, "Warning", std::string(kReasonInvalidSpec), message);
  if (deps_.job_events != nullptr) {
    if (!created) deps_.job_events->JobCreated(object);
    if (const api::JobCondition* failed = api::FindCondition(status, api::kJobFailed)) {
      deps_.job_events->ConditionChanged(object, *failed, status.start_time);
    }
  }
  Object current = object;
  current["status"] = ToKube(api::ToJson(status));
  auto written = deps_.client->UpdateStatus(JobResource(d), kube::Namespace(object), current);
  if (!written.ok() && !kube::IsNotFound(written.status())) {
    LOG(WARNING) << key << ": writing the InvalidSpec status: " << written.status();
    return {.error = true};  // a conflict or an outage: retried with backoff
  }
  if (written.ok()) RememberFinished(key, kube::Uid(object), status);
  return {};
}

JobReconciler::Pass::Observed JobReconciler::Pass::Observe() {
  Observed observed;
  for (Object& pod : deps_.pods->ByIndex(kube::kIndexControllerUid, job_.uid)) {
    if (BeingDeleted(pod)) {
      deps_.expectations->DeleteObserved(key_, kube::Uid(pod));
      continue;
    }
    observed.pods.push_back(std::move(pod));
  }
  observed.services = deps_.services->ByIndex(kube::kIndexControllerUid, job_.uid);
  Adopt(*deps_.pods, kube::resources::Pods(), observed.pods);
  Adopt(*deps_.services, kube::resources::Services(), observed.services);
  return observed;
}

// Pods and services that carry the job's labels but have no controller become the job's.
void JobReconciler::Pass::Adopt(const kube::ObjectCache& cache, const kube::ResourceRef& ref,
                                std::vector<Object>& owned) {
  auto selector = kube::LabelSelector::Parse(absl::StrCat(
      A(kLabelOperatorName), "=", OperatorName(job_.kind), ",", A(kLabelJobName), "=", job_.name));
  if (!selector.ok()) return;  // a job name is always a valid label value
  for (Object& obj : cache.List(job_.namespace_, *selector)) {
    if (!kube::ControllerUid(obj).empty() || BeingDeleted(obj)) continue;
    Object refs = Object::array();
    if (obj["metadata"].contains("ownerReferences")) refs = obj["metadata"]["ownerReferences"];
    refs.push_back(OwnerReference(job_));
    Object patch = {{"metadata",
                     {{"ownerReferences", refs}, {"uid", kube::Uid(obj)},
                      {"resourceVersion", kube::ResourceVersion(obj)}}}};
    auto adopted = deps_.client->Patch(ref, job_.namespace_, kube::Name(obj),
                                       kube::PatchType::kMerge, patch);
    if (adopted.ok()) {
      owned.push_back(std::move(*adopted));
    } else if (!kube::IsNotFound(adopted.status()) && !kube::IsConflict(adopted.status())) {
      LOG(WARNING) << key_ << ": adopting " << kube::Name(obj) << ": " << adopted.status();
    }
  }
}

void JobReconciler::Pass::SetCondition(std::string_view type, std::string_view status,
                                       std::string_view suffix, const std::string& message,
                                       std::string_view event_type) {
  const std::string reason = api::ConditionReason(job_.kind, suffix);
  if (api::SetCondition(job_.status, type, status, reason, message, now_str_)) {
    if (status == api::kConditionTrue) {
      deps_.events->Record(object_, std::string(event_type), reason, message);
    }
  }
}

void JobReconciler::Pass::Fail(std::string_view suffix, const std::string& message) {
  SetCondition(api::kJobFailed, api::kConditionTrue, suffix, message, "Warning");
  if (!job_.status.completion_time) job_.status.completion_time = now_str_;
}

void JobReconciler::Pass::DeletePod(const Object& pod, std::string_view why) {
  const std::string uid = kube::Uid(pod);
  deps_.expectations->ExpectDelete(key_, uid);
  kube::DeleteOptions options;
  options.precondition_uid = uid;
  absl::Status s = deps_.client->Delete(kube::resources::Pods(), job_.namespace_,
                                        kube::Name(pod), options);
  if (s.ok() || kube::IsNotFound(s)) {
    deps_.events->Record(object_, "Normal", "SuccessfulDeletePod",
                         absl::StrCat("Deleted pod: ", kube::Name(pod), why.empty() ? "" : " (",
                                      A(why), why.empty() ? "" : ")"));
    return;
  }
  deps_.expectations->DeleteObserved(key_, uid);
  deps_.events->Record(object_, "Warning", "FailedDeletePod",
                       absl::StrCat("Error deleting pod ", kube::Name(pod), ": ", s.message()));
  result_.error = true;
}

void JobReconciler::Pass::DeleteService(const Object& service) {
  absl::Status s = deps_.client->Delete(kube::resources::Services(), job_.namespace_,
                                        kube::Name(service));
  if (s.ok() || kube::IsNotFound(s)) {
    deps_.events->Record(object_, "Normal", "SuccessfulDeleteService",
                         absl::StrCat("Deleted service: ", kube::Name(service)));
    return;
  }
  deps_.events->Record(object_, "Warning", "FailedDeleteService",
                       absl::StrCat("Error deleting service ", kube::Name(service), ": ",
                                    s.message()));
  result_.error = true;
}

// Deletes the job's pods (only Pending and Running ones when `only_unfinished`) and the
// services of the pods it deletes.
void JobReconciler::Pass::DeleteAll(const Observed& observed, bool only_unfinished) {
  for (const Object& pod : observed.pods) {
    const std::string phase = Phase(pod);
    if (only_unfinished && phase != "Running" && phase != "Pending" && !phase.empty()) continue;
    DeletePod(pod, "");
    for (const Object& svc : observed.services) {
      if (kube::Name(svc) == kube::Name(pod)) DeleteService(svc);
    }
  }
  if (!only_unfinished) {
    for (const Object& svc : observed.services) {
      const bool has_pod = std::ranges::any_of(
          observed.pods, [&](const Object& p) { return kube::Name(p) == kube::Name(svc); });
      if (!has_pod) DeleteService(svc);
    }
  }
}

void JobReconciler::Pass::NoteCreatedMessage(const std::string& message) {
  for (auto& c : job_.status.conditions) {
    if (c.type == api::kJobCreated && c.message != message) {
      c.message = message;
      c.last_update_time = now_str_;
    }
  }
}

bool JobReconciler::Pass::GangAllowsPods() {
  if (deps_.gang == nullptr) return true;
  if (gang_checked_) return gang_ok_;
  gang_checked_ = true;
  absl::StatusOr<GangState> gang = deps_.gang->EnsureGang(job_);
  if (!gang.ok()) {
    const std::string message =
        absl::StrCat(ReplicaMessagePrefix(job_), " is waiting for gang scheduling: ",
                     gang.status().message());
    deps_.events->Record(object_, "Warning", "GangSchedulingFailed", message);
    NoteCreatedMessage(message);
    result_.requeue = true;  // rate-limited: backs off while the service is unreachable
    return gang_ok_ = false;
  }
  if (gang->admission == GangAdmission::kPending) {
    NoteCreatedMessage(absl::StrCat(ReplicaMessagePrefix(job_),
                                    " is waiting for its gang to be admitted (PodGroup phase ",
                                    gang->backend_phase.empty() ? "unset" : gang->backend_phase,
                                    ")."));
    Requeue(absl::Seconds(2));  // the reconciler does not watch PodGroups: poll
    return gang_ok_ = false;
  }
  NoteCreatedMessage(absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is created."));
  return gang_ok_ = true;
}

void JobReconciler::Pass::DeleteGang() {
  if (deps_.gang == nullptr) return;
  absl::Status s = deps_.gang->DeleteGang(job_);
  if (!s.ok()) {
    deps_.events->Record(object_, "Warning", "GangDeleteFailed",
                         absl::StrCat("Deleting the gang failed: ", s.message()));
    result_.requeue = true;
  }
}

std::optional<JobReconciler::Pass::PlannedCreate> JobReconciler::Pass::PlanPod(
    const api::Replica& replica, int64_t index) {
  const std::string name = ReplicaName(job_.name, replica.type, index);
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
  metadata["ownerReferences"] = api::Json::array({api::Json(OwnerReference(job_))});
  pod["metadata"] = std::move(metadata);
  pod["spec"] = tmpl.contains("spec") && tmpl["spec"].is_object() ? tmpl["spec"] : api::Json::object();

  const std::string policy = replica.spec.restart_policy.value_or(
      std::string(kind_.default_restart_policy));
  const std::string pod_policy = policy == "ExitCode" ? "Never" : policy;
  if (pod["spec"].contains("restartPolicy") && pod["spec"]["restartPolicy"] != pod_policy) {
    deps_.events->Record(object_, "Warning", "SettedPodTemplateRestartPolicy",
                         absl::StrCat("Restart policy in pod template will be overwritten by "
                                      "restart policy in replica spec"));
  }
  pod["spec"]["restartPolicy"] = pod_policy;

  absl::Status decorated =
      framework_.DecoratePod(job_, replica.type, index, deps_.framework_options, pod);
  if (decorated.ok()) decorated = InjectCodeSync(job_, pod);
  if (!decorated.ok()) {
    deps_.events->Record(object_, "Warning", "FailedCreatePod",
                         absl::StrCat("Error creating pod ", name, ": ", decorated.message()));
    return std::nullopt;  // a spec problem: retrying the same spec cannot help
  }
  if (deps_.gang != nullptr) {
    const std::string scheduler = common::StringOr(pod["spec"], "schedulerName");
    absl::StatusOr<PodBinding> binding = deps_.gang->BindPod(
        job_, replica.type, static_cast<int32_t>(index), scheduler);
    if (!binding.ok()) {
      deps_.events->Record(object_, "Warning", "GangSchedulingFailed",
                           absl::StrCat("Binding pod ", name, " to its gang failed: ",
                                        binding.status().message()));
      result_.requeue = true;
      return std::nullopt;  // never create a pod outside its gang
    }
    for (const auto& [k, v] : binding->labels) pod["metadata"]["labels"][k] = v;
    for (const auto& [k, v] : binding->annotations) pod["metadata"]["annotations"][k] = v;
    if (!binding->scheduler_name.empty()) pod["spec"]["schedulerName"] = binding->scheduler_name;
    if (!binding->warning.empty()) {
      deps_.events->Record(object_, "Warning", "GangSchedulerName", binding->warning);
    }
  }

  PlannedCreate planned;
  planned.name = name;
  planned.body = ToKube(pod);
  return planned;
}

JobReconciler::Pass::PlannedCreate JobReconciler::Pass::PlanService(const api::Replica& replica,
                                                                    int64_t index) {
  const std::string name = ReplicaName(job_.name, replica.type, index);
  Object ports = Object::array();
  const api::Json* container = FrameworkContainer(replica.spec.template_spec, kind_);
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
    ports.push_back({{"name", std::string(kind_.port_name)},
                     {"port", ReplicaPort(replica, kind_)},
                     {"targetPort", ReplicaPort(replica, kind_)}});
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
  Object service = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", name}, {"namespace", job_.namespace_}, {"labels", labels},
        {"ownerReferences", Object::array({OwnerReference(job_)})}}},
      {"spec", {{"clusterIP", "None"}, {"selector", selector}, {"ports", ports}}}};
  PlannedCreate planned;
  planned.is_pod = false;
  planned.name = name;
  planned.body = std::move(service);
  return planned;
}

// Sends the creates in slow-start batches; a failed batch leaves the rest for the next pass.
// Only the batch about to be sent is planned and held (a pod of a large TFJob carries every
// address in TF_CONFIG, so holding all of them is quadratic in the job's size). Between batches
// the pass stops when the process is stopping or the job was deleted or replaced.
void JobReconciler::Pass::CreateAll(const std::vector<MissingObject>& missing) {
  std::vector<std::optional<PlannedCreate>> batch;
  size_t batch_begin = 0;
  auto report = [&] {
    for (std::optional<PlannedCreate>& p : batch) {
      if (p) ReportCreate(*p);
    }
    batch.clear();
  };
  // A pod is about as large as its job plus, for the kinds that list every address in its env
  // (TF_CONFIG, XDL_CONFIG), an address per replica.
  const size_t object_bytes =
      job_bytes_ + static_cast<size_t>(std::max<int64_t>(TotalReplicas(job_), 0)) * kBytesPerAddress;
  const size_t max_batch =
      std::clamp<size_t>(kCreateBatchBytes / std::max<size_t>(object_bytes, 1), 1, kMaxCreateBatch);
  const size_t attempted = RunInSlowStartBatches(
      *deps_.create_runner, missing.size(), max_batch,
      [&](size_t i) {
        std::optional<PlannedCreate>& p = batch[i - batch_begin];
        if (!p) return true;  // could not be planned: the reason is an event already
        deps_.expectations->ExpectCreate(key_, p->ExpectationName());
        p->sent = true;
        // This runs on the shared pool, outside the reconcile's barrier: nothing may escape.
        p->result = common::StatusOfCall([&] {
          return deps_.client->Create(
              p->is_pod ? kube::resources::Pods() : kube::resources::Services(), job_.namespace_,
              p->body);
        });
        return p->result.ok() || kube::IsAlreadyExists(p->result.status());
      },
      [&](size_t begin, size_t end) {
        report();
        if (Cancelled()) return false;
        batch_begin = begin;
        for (size_t i = begin; i < end; ++i) {
          const MissingObject& m = missing[i];
          batch.push_back(m.is_pod ? PlanPod(*m.replica, m.index)
                                   : std::optional(PlanService(*m.replica, m.index)));
        }
        return true;
      });
  (void)attempted;
  report();
}

bool JobReconciler::Pass::Cancelled() {
  if (deps_.stopping != nullptr && deps_.stopping->HasBeenNotified()) {
    Requeue(absl::Seconds(1));
    return true;
  }
  const kube::ObjectCache* jobs = deps_.jobs(job_.kind);
  std::optional<Object> current =
      jobs != nullptr ? jobs->Get(job_.namespace_, job_.name) : std::nullopt;
  if (!current || kube::Uid(*current) != job_.uid || BeingDeleted(*current)) {
    LOG(INFO) << key_ << ": the job was deleted; its pass stops creating";
    return true;
  }
  return false;
}

void JobReconciler::Pass::ReportCreate(const PlannedCreate& p) {
  if (!p.sent) return;
  const std::string_view what = p.is_pod ? "pod" : "service";
  if (p.result.ok()) {
    deps_.events->Record(object_, "Normal",
                         p.is_pod ? "SuccessfulCreatePod" : "SuccessfulCreateService",
                         absl::StrCat("Created ", A(what), ": ", p.name));
    return;
  }
  // The create did not happen (or is not ours to wait for): nothing is pending any more.
  deps_.expectations->CreateObserved(key_, p.ExpectationName());
  if (kube::IsAlreadyExists(p.result.status())) {
    // An earlier pass or process made it, or the object of that name is still being deleted
    // (a recreation): names are deterministic, so nothing is duplicated. Look again shortly;
    // the informer may never send an event for this name that would clear the expectation.
    Requeue(absl::Seconds(1));
    return;
  }
  deps_.events->Record(object_, "Warning", p.is_pod ? "FailedCreatePod" : "FailedCreateService",
                       absl::StrCat("Error creating ", A(what), " ", p.name, ": ",
                                    p.result.status().message()));
  if (kube::IsInvalid(p.result.status())) {
    // The API server's own validation refused what the spec implies (a check lib/api does not
    // make): the same spec can only be refused again, so the job fails instead of retrying.
    if (!refused_by_api_server_) {
      refused_by_api_server_ = absl::StrCat(ReplicaMessagePrefix(job_), " is invalid: the API server refused its ",
                                            A(what), " ", p.name, ": ", p.result.status().message());
    }
    return;
  }
  result_.error = true;
}

kube::ReconcileResult JobReconciler::Pass::FinishedJob(const Observed& observed) {
  // Pods that end after their job did (cleanPodPolicy None) still count in the exit codes.
  if (deps_.job_events != nullptr) {
    for (const Object& pod : observed.pods) {
      if (Phase(pod) == "Succeeded") deps_.job_events->PodExited(object_, pod, 0);
      if (Phase(pod) == "Failed") {
        deps_.job_events->PodExited(object_, pod, ClassifyFailure(pod, kind_).exit_code);
      }
    }
  }
  const api::RunPolicy policy = api::EffectiveRunPolicy(job_.spec);
  const std::string clean = policy.clean_pod_policy.value_or(std::string(kind_.default_clean_pod_policy));
  if (clean == "All") {
    DeleteAll(observed, /*only_unfinished=*/false);
  } else if (clean == "Running") {
    DeleteAll(observed, /*only_unfinished=*/true);
  }
  DeleteGang();
  if (policy.ttl_seconds_after_finished) {
    if (auto done = ParseTime(job_.status.completion_time)) {
      const absl::Time expiry = *done + absl::Seconds(*policy.ttl_seconds_after_finished);
      if (now_ >= expiry) {
        kube::DeleteOptions options;
        options.propagation_policy = "Background";
        options.precondition_uid = job_.uid;
        absl::Status s = deps_.client->Delete(JobResource(kind_), job_.namespace_, job_.name,
                                              options);
        if (!s.ok() && !kube::IsNotFound(s)) {
          LOG(WARNING) << key_ << ": deleting after TTL: " << s;
          result_.error = true;
        }
        return result_;
      }
      Requeue(expiry - now_);
    }
  }
  WriteStatus();
  return result_;
}

kube::ReconcileResult JobReconciler::Pass::Run() {
  if (job_.status.conditions.empty()) {
    SetCondition(api::kJobCreated, api::kConditionTrue, api::kJobCreated,
                 absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is created."));
    if (deps_.job_events != nullptr) deps_.job_events->JobCreated(object_);
  }
  Observed observed = Observe();
  if (api::IsFinished(job_.status)) return FinishedJob(observed);

  const api::RunPolicy policy = api::EffectiveRunPolicy(job_.spec);
  if (policy.suspend.value_or(false)) {
    DeleteAll(observed, /*only_unfinished=*/false);
    DeleteGang();
    if (!api::IsSuspended(job_.status)) {
      SetCondition(api::kJobSuspended, api::kConditionTrue, api::kJobSuspended,
                   absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is suspended."));
      api::SetCondition(job_.status, api::kJobRunning, api::kConditionFalse,
                        api::ConditionReason(job_.kind, api::kJobSuspended),
                        absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is suspended."),
                        now_str_);
    }
    for (auto& [type, rs] : job_.status.replica_statuses) rs.active = 0;
    WriteStatus();
    return result_;
  }
  if (api::IsSuspended(job_.status)) {
    SetCondition(api::kJobSuspended, api::kConditionFalse, api::kJobResumed,
                 absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is resumed."));
    deps_.events->Record(object_, "Normal", api::ConditionReason(job_.kind, api::kJobResumed),
                         absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is resumed."));
    job_.status.start_time = now_str_;
  }
  if (!job_.status.start_time) job_.status.start_time = now_str_;

  // activeDeadlineSeconds, from startTime, enforced by a timed requeue.
  if (policy.active_deadline_seconds) {
    if (auto start = ParseTime(job_.status.start_time)) {
      const absl::Time deadline = *start + absl::Seconds(*policy.active_deadline_seconds);
      if (now_ >= deadline) {
        Fail("DeadlineExceeded",
             absl::StrCat(A(job_.descriptor().name), " ", job_.name,
                          " has run longer than its active deadline of ",
                          *policy.active_deadline_seconds, " seconds."));
        return FinishedJob(observed);
      }
      Requeue(deadline - now_);
    }
  }

  // Observe every replica type; decide deletions and creations.
  ReplicaStates states;
  std::map<std::string, int64_t> permanent_failures;  // type -> count
  std::map<std::string, int64_t> retried;             // type -> pods recreated this pass
  std::vector<std::pair<const api::Replica*, int64_t>> missing_pods, missing_services;
  int64_t container_restarts = 0;
  for (std::string_view type : kind_.replica_types) {
    const api::Replica* replica = job_.FindReplica(type);
    if (replica == nullptr) continue;
    const int64_t replicas = replica->spec.replicas.value_or(1);
    ReplicaState& state = states[std::string(type)];
    state.replicas = replicas;
    state.by_index.assign(static_cast<size_t>(std::max<int64_t>(replicas, 0)), PodOutcome::kMissing);
    const std::string lower = absl::AsciiStrToLower(A(type));
    const std::string policy_name =
        replica->spec.restart_policy.value_or(std::string(kind_.default_restart_policy));
    std::vector<bool> has_service(state.by_index.size(), false);
    for (const Object& svc : observed.services) {
      if (Label(svc, kLabelReplicaType) != lower) continue;
      int64_t index = -1;
      if (!absl::SimpleAtoi(Label(svc, kLabelReplicaIndex), &index)) continue;
      if (index >= replicas) {
        DeleteService(svc);
      } else if (index >= 0) {
        has_service[static_cast<size_t>(index)] = true;
        deps_.expectations->CreateObserved(key_, absl::StrCat("svc/", kube::Name(svc)));
      }
    }
    for (const Object& pod : observed.pods) {
      if (Label(pod, kLabelReplicaType) != lower) continue;
      int64_t index = -1;
      if (!absl::SimpleAtoi(Label(pod, kLabelReplicaIndex), &index) || index < 0) continue;
      deps_.expectations->CreateObserved(key_, kube::Name(pod));
      if (index >= replicas) {  // scaled down
        DeletePod(pod, "scaled down");
        continue;
      }
      const std::string uid = kube::Uid(pod);
      if (deps_.expectations->DeletePending(key_, uid)) {
        state.by_index[static_cast<size_t>(index)] = PodOutcome::kPending;
        continue;
      }
      container_restarts += ContainerRestarts(pod);
      const std::string phase = Phase(pod);
      PodOutcome& outcome = state.by_index[static_cast<size_t>(index)];
      if (phase == "Running") {
        outcome = PodOutcome::kRunning;
        ++state.active;
      } else if (phase == "Succeeded") {
        outcome = PodOutcome::kSucceeded;
        ++state.succeeded;
        // Exit code 0 counts in kubedl_pods_exit_code_total too (the emitter sends once per pod).
        if (deps_.job_events != nullptr) deps_.job_events->PodExited(object_, pod, 0);
      } else if (phase == "Failed") {
        const PodFailure failure = ClassifyFailure(pod, kind_);
        if (deps_.job_events != nullptr) deps_.job_events->PodExited(object_, pod, failure.exit_code);
        deps_.events->Record(object_, failure.retryable ? "Normal" : "Warning", "ExitedWithCode",
                             absl::StrCat("Pod: ", job_.namespace_, ".", kube::Name(pod),
                                          " exited with code ", failure.exit_code));
        const bool recreate = policy_name == "OnFailure" || policy_name == "Always" ||
                              (policy_name == "ExitCode" && failure.retryable) ||
                              (policy_name == "Never" && failure.reason != "Error" &&
                               failure.reason != "Signal");
        if (recreate) {
          DeletePod(pod, absl::StrCat("recreated after ", failure.reason));
          ++retried[std::string(type)];
          outcome = PodOutcome::kPending;
        } else {
          outcome = PodOutcome::kFailed;
          ++state.failed;
          ++permanent_failures[std::string(type)];
        }
      } else {
        outcome = PodOutcome::kPending;
      }
    }
    for (int64_t i = 0; i < replicas; ++i) {
      if (state.by_index[static_cast<size_t>(i)] == PodOutcome::kMissing &&
          !deps_.expectations->CreatePending(key_, ReplicaName(job_.name, type, i))) {
        missing_pods.emplace_back(replica, i);
      }
      if (!has_service[static_cast<size_t>(i)] &&
          !deps_.expectations->CreatePending(key_,
                                             absl::StrCat("svc/", ReplicaName(job_.name, type, i)))) {
        missing_services.emplace_back(replica, i);
      }
    }
    api::ReplicaStatus& rs = job_.status.replica_statuses[std::string(type)];
    rs.active = state.active;
    rs.succeeded = state.succeeded;
    rs.failed = state.failed;
    // The scale subresource's labelSelectorPath: lets an autoscaler find this type's pods.
    rs.selector = absl::StrCat(A(kLabelOperatorName), "=", OperatorName(job_.kind), ",",
                               A(kLabelJobName), "=", job_.name, ",", A(kLabelReplicaType), "=",
                               lower);
  }

  // Recreations are counted once, when the pod is deleted, and kept on the job.
  int64_t recreated_now = 0;
  for (const auto& [type, n] : retried) recreated_now += n;
  int64_t recreations = r_.Recreations(
      job_.uid, [&] {
        int64_t v = 0;
        auto it = job_.annotations.find(kRecreationsAnnotation);
        if (it != job_.annotations.end()) (void)absl::SimpleAtoi(it->second, &v);
        return v;
      }());
  if (recreated_now > 0) {
    recreations += recreated_now;
    r_.AddRecreations(job_.uid, recreations);
    Object patch = {{"metadata", {{"annotations", {{kRecreationsAnnotation, absl::StrCat(recreations)}}}}}};
    auto patched = deps_.client->Patch(JobResource(kind_), job_.namespace_, job_.name,
                                       kube::PatchType::kMerge, patch);
    if (!patched.ok()) LOG(WARNING) << key_ << ": recording recreations: " << patched.status();
  }

  if (!permanent_failures.empty()) {
    std::string message;
    for (const auto& [type, n] : permanent_failures) {
      absl::StrAppend(&message, message.empty() ? "" : " ", ReplicaMessagePrefix(job_),
                      " has failed because ", n, " ", type, " replica(s) failed.");
    }
    Fail(api::kJobFailed, message);
    return FinishedJob(observed);
  }
  if (policy.backoff_limit && recreations + container_restarts > *policy.backoff_limit) {
    Fail("BackoffLimitExceeded",
         absl::StrCat(ReplicaMessagePrefix(job_), " has failed because it has reached the "
                      "specified backoff limit (", *policy.backoff_limit, ")."));
    return FinishedJob(observed);
  }

  // Success is decided before anything is created: a pass that sees the job finish must not
  // create the pods and services a cleanPodPolicy is about to remove.
  const JobProgress progress =
      retried.empty() ? framework_.Progress(job_, states) : JobProgress::kNotRunning;
  if (progress == JobProgress::kSucceeded) {
    SetCondition(api::kJobSucceeded, api::kConditionTrue, api::kJobSucceeded,
                 absl::StrCat(ReplicaMessagePrefix(job_), " successfully completed."));
    if (!job_.status.completion_time) job_.status.completion_time = now_str_;
    for (auto& [type, rs] : job_.status.replica_statuses) {
      rs.succeeded += rs.active;
      rs.active = 0;
    }
    return FinishedJob(observed);
  }

  std::vector<MissingObject> creates;
  if (!missing_pods.empty() && GangAllowsPods()) {
    for (const auto& [replica, index] : missing_pods) creates.push_back({replica, index, true});
  }
  for (const auto& [replica, index] : missing_services) {
    creates.push_back({replica, index, false});
  }
  CreateAll(creates);
  if (refused_by_api_server_) {
    api::SetCondition(job_.status, api::kJobRunning, api::kConditionFalse, kReasonInvalidSpec,
                      *refused_by_api_server_, now_str_);
    if (api::SetCondition(job_.status, api::kJobFailed, api::kConditionTrue, kReasonInvalidSpec,
                          *refused_by_api_server_, now_str_)) {
      deps_.events->Record(object_, "Warning", std::string(kReasonInvalidSpec),
                           *refused_by_api_server_);
    }
    if (!job_.status.completion_time) job_.status.completion_time = now_str_;
    return FinishedJob(observed);
  }

  if (!retried.empty()) {
    std::string message;
    for (const auto& [type, n] : retried) {
      absl::StrAppend(&message, message.empty() ? "" : " ", ReplicaMessagePrefix(job_),
                      " is restarting because ", n, " ", type, " replica(s) failed.");
    }
    SetCondition(api::kJobRestarting, api::kConditionTrue, api::kJobRestarting, message,
                 "Warning");
  } else if (progress == JobProgress::kRunning) {
    SetCondition(api::kJobRunning, api::kConditionTrue, api::kJobRunning,
                 absl::StrCat(A(job_.descriptor().name), " ", job_.name, " is running."));
  }
  if (deps_.job_events != nullptr) deps_.job_events->PodsObserved(object_, observed.pods, TotalReplicas(job_));
  WriteStatus();
  return result_;
}

void JobReconciler::Pass::WriteStatus() {
  if (job_.status == old_status_) return;
  if (deps_.job_events != nullptr) {
    for (const auto& c : job_.status.conditions) {
      const api::JobCondition* before = api::FindCondition(old_status_, c.type);
      if (before == nullptr || before->status != c.status || before->reason != c.reason) {
        deps_.job_events->ConditionChanged(object_, c, job_.status.start_time);
      }
    }
  }
  Object status = ToKube(api::ToJson(job_.status));
  Object current = object_;
  for (int attempt = 0; attempt < 3; ++attempt) {
    current["status"] = status;
    auto written = deps_.client->UpdateStatus(JobResource(kind_), job_.namespace_, current);
    if (written.ok()) {
      if (api::IsFinished(job_.status)) r_.RememberFinished(key_, job_.uid, job_.status);
      return;
    }
    if (kube::IsNotFound(written.status())) return;
    if (!kube::IsConflict(written.status())) {
      LOG(WARNING) << key_ << ": writing status: " << written.status();
      result_.error = true;
      return;
    }
    // Someone else wrote the job (a user edit, our own annotation patch): status is ours alone,
    // so put it on the newest version.
    auto fresh = deps_.client->Get(JobResource(kind_), job_.namespace_, job_.name);
    if (!fresh.ok()) {
      result_.error = true;
      return;
    }
    current = std::move(*fresh);
  }
  result_.error = true;
}

}  // namespace kubedl::reconciler
