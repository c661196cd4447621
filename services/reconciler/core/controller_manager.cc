#include "core/controller_manager.h"

#include <utility>

#include "kubedl/common/json_access.h"
#include "kubedl/common/string_view.h"
#include "absl/strings/str_cat.h"
#include "core/pod_identity.h"
#include "glog/logging.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"

namespace kubedl::reconciler {
namespace {

using kube::Object;

// What the reconciler reads of a pod: metadata (minus managedFields) and status. Dropping the
// spec keeps a cached pod small.
void SlimPod(Object& pod) {
  kube::DropManagedFields(pod);
  pod.erase("spec");
}

void SlimService(Object& service) {
  kube::DropManagedFields(service);
  service.erase("spec");
  service.erase("status");
}

// The job that controls `obj`, from its controller ownerReference.
std::optional<std::pair<api::JobKind, std::string>> ControllingJob(const Object& obj) {
  const Object* refs = common::MemberPath(obj, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array()) return std::nullopt;
  for (const auto& ref : *refs) {
    if (!common::BoolOr(ref, "controller", false)) continue;
    const api::KindDescriptor* kind =
        api::FindKind(common::StringOr(ref, "apiVersion"), common::StringOr(ref, "kind"));
    if (kind == nullptr) return std::nullopt;
    return std::make_pair(kind->kind, common::StringOr(ref, "name"));
  }
  return std::nullopt;
}

}  // namespace

ControllerManager::ControllerManager(kube::Client& client, ReconcilerDeps deps,
                                     ManagerOptions options, prometheus::Registry& registry)
    : client_(client),
      deps_(std::move(deps)),
      options_(std::move(options)),
      expectations_(*deps_.clock),
      queue_(kube::NewWorkQueue()),
      reconciles_(prometheus::BuildCounter()
                      .Name("kubedl_reconciler_reconciles_total")
                      .Help("Job reconciles by kind and result (success, error, requeue).")
                      .Register(registry)),
      reconcile_seconds_(prometheus::BuildHistogram()
                             .Name("kubedl_reconciler_reconcile_duration_seconds")
                             .Help("Time one reconcile of one job took.")
                             .Register(registry)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("kubedl_reconciler_work_queue_depth")
                       .Help("Jobs waiting in the work queue.")
                       .Register(registry)
                       .Add({})),
      reconcile_exceptions_(prometheus::BuildCounter()
                                .Name("kubedl_reconciler_reconcile_exceptions_total")
                                .Help("Reconciles that threw and were stopped by the error "
                                      "barrier (each also counts as an error), by kind.")
                                .Register(registry)) {}

ControllerManager::~ControllerManager() { Stop(); }

void ControllerManager::EnqueueOwner(const Object& obj) {
  if (auto owner = ControllingJob(obj)) {
    queue_->Add(JobKey(owner->first, kube::Namespace(obj), owner->second));
  }
}

void ControllerManager::StartKind(api::JobKind kind) {
  if (jobs_.contains(kind)) return;
  const api::KindDescriptor& d = api::Describe(kind);
  kube::InformerOptions opts;
  opts.resource = JobResource(d);
  opts.namespace_name = options_.namespace_name;
  opts.transform = kube::DropManagedFields;
  auto informer = kube::NewInformer(client_, std::move(opts));
  auto key_of = [kind](const Object& job) {
    return JobKey(kind, kube::Namespace(job), kube::Name(job));
  };
  informer->AddEventHandler({
      .on_add = [this, key_of](const Object& job) { queue_->Add(key_of(job)); },
      .on_modified = [this, key_of](const Object& job) { queue_->Add(key_of(job)); },
      .on_delete =
          [this, key_of](const Object& job) {
            if (deps_.job_events != nullptr) deps_.job_events->JobDeleted(job);
            queue_->Add(key_of(job));
          },
  });
  informer->Start();
  LOG(INFO) << "started the " << d.name << " controller";
  jobs_.emplace(kind, std::move(informer));
}

absl::Status ControllerManager::WaitForSyncUnlessStopping(const kube::Informer& informer,
                                                          absl::Time deadline,
                                                          absl::string_view what) {
  while (!informer.WaitForSync(absl::Milliseconds(100))) {
    if (stopping_.HasBeenNotified()) return absl::CancelledError("stopping");
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(what, " did not sync within 2 minutes"));
    }
  }
  return absl::OkStatus();
}

absl::Status ControllerManager::Start() {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  if (stopping_.HasBeenNotified()) return absl::CancelledError("stopping");
  const std::string selector = std::string(kLabelOperatorName);  // "exists": ours only
  for (auto [informer, ref, slim] :
       {std::tuple{&pods_, &kube::resources::Pods(), &SlimPod},
        std::tuple{&services_, &kube::resources::Services(), &SlimService}}) {
    kube::InformerOptions opts;
    opts.resource = *ref;
    opts.namespace_name = options_.namespace_name;
    opts.label_selector = selector;
    opts.transform = slim;
    opts.skip_fields = {"spec"};  // never read back; a TF pod's spec lists every address
    opts.indexers = {{kIndexOrphanOfJob, &OrphanOfJobIndex}};
    *informer = kube::NewInformer(client_, std::move(opts));
  }
  // Informer events confirm our own creates and deletes, and wake the owning job.
  auto observed = [this](const Object& obj, bool gone, bool is_service) {
    auto owner = ControllingJob(obj);
    if (!owner) return;
    const std::string key = JobKey(owner->first, kube::Namespace(obj), owner->second);
    if (gone) {
      expectations_.DeleteObserved(key, kube::Uid(obj));
    } else {
      expectations_.CreateObserved(key, is_service ? absl::StrCat("svc/", kube::Name(obj))
                                                   : kube::Name(obj));
    }
    queue_->AddAfter(key, options_.owned_event_batch);
  };
  for (bool is_service : {false, true}) {
    kube::Informer& informer = is_service ? *services_ : *pods_;
    informer.AddEventHandler({
        .on_add = [observed, is_service](const Object& o) { observed(o, false, is_service); },
        .on_modified = [observed, is_service](const Object& o) { observed(o, false, is_service); },
        .on_delete = [observed, is_service](const Object& o) { observed(o, true, is_service); },
    });
    informer.Start();
  }

  deps_.pods = pods_.get();
  deps_.services = services_.get();
  deps_.expectations = &expectations_;
  deps_.jobs = [this](api::JobKind kind) -> const kube::ObjectCache* {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(kind);
    return it == jobs_.end() ? nullptr : it->second.get();
  };
  deps_.stopping = &stopping_;
  deps_.on_unexpected_error = [this](const std::string& key) {
    reconcile_exceptions_.Add({{"kind", key.substr(0, key.find('/'))}}).Increment();
  };
  reconciler_ = std::make_unique<JobReconciler>(deps_);
  {
    absl::MutexLock lock(&mu_);
    for (api::JobKind kind : options_.kinds) StartKind(kind);
  }
  const absl::Time deadline = absl::Now() + absl::Minutes(2);
  for (auto* informer : {pods_.get(), services_.get()}) {
    absl::Status synced = WaitForSyncUnlessStopping(*informer, deadline, "pod/service informers");
    if (!synced.ok()) return synced;
  }
  {
    absl::MutexLock lock(&mu_);
    for (auto& [kind, informer] : jobs_) {
      absl::Status synced = WaitForSyncUnlessStopping(
          *informer, deadline, absl::StrCat(A(api::Describe(kind).name), " informer"));
      if (!synced.ok()) return synced;
    }
  }
  if (stopping_.HasBeenNotified()) return absl::CancelledError("stopping");
  // Workers start after the caches are full, so no reconcile mistakes "not cached" for "absent".
  workers_ = std::make_unique<kube::Workers>(
      *queue_, options_.workers, [this](const std::string& key) { return Reconcile(key); });
  if (!options_.discover_kinds.empty()) {
    discovery_ = kube::NewDiscovery(client_, absl::ZeroDuration());
    discovery_thread_ = std::thread([this] { DiscoveryLoop(); });
  }
  ready_ = true;
  return absl::OkStatus();
}

void ControllerManager::DiscoveryLoop() {
  do {
    for (api::JobKind kind : options_.discover_kinds) {
      {
        absl::MutexLock lock(&mu_);
        if (jobs_.contains(kind)) continue;
      }
      const api::KindDescriptor& d = api::Describe(kind);
      discovery_->Invalidate();
      absl::StatusOr<bool> served = discovery_->IsServed(std::string(d.group),
                                                         std::string(d.version),
                                                         std::string(d.name));
      if (served.ok() && *served) {
        absl::MutexLock lock(&mu_);
        StartKind(kind);
      }
    }
  } while (!stopping_.WaitForNotificationWithTimeout(options_.discovery_period));
}

kube::ReconcileResult ControllerManager::Reconcile(const std::string& key) {
  queue_depth_.Set(static_cast<double>(queue_->Len()));
  const std::string kind = key.substr(0, key.find('/'));
  const absl::Time start = absl::Now();
  kube::ReconcileResult result = reconciler_->Reconcile(key);
  reconcile_seconds_
      .Add({{"kind", kind}},
           prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})
      .Observe(absl::ToDoubleSeconds(absl::Now() - start));
  reconciles_
      .Add({{"kind", kind},
            {"result", result.error ? "error" : (result.requeue ? "requeue" : "success")}})
      .Increment();
  return result;
}

std::vector<api::JobKind> ControllerManager::RunningKinds() const {
  absl::MutexLock lock(&mu_);
  std::vector<api::JobKind> kinds;
  for (const auto& [kind, informer] : jobs_) kinds.push_back(kind);
  return kinds;
}

std::vector<std::pair<Object, std::string>> ControllerManager::LiveJobs() const {
  std::vector<std::pair<Object, std::string>> live;
  absl::MutexLock lock(&mu_);
  for (const auto& [kind, informer] : jobs_) {
    for (Object& job : informer->List("")) {
      std::string state = "Created";
      const Object* conditions = common::MemberPath(job, {"status", "conditions"});
      if (conditions != nullptr && conditions->is_array()) {
        for (const auto& c : *conditions) {
          if (common::StringOr(c, "status") == "True") state = common::StringOr(c, "type", state);
        }
      }
      live.emplace_back(std::move(job), std::move(state));
    }
  }
  return live;
}

void ControllerManager::Stop() {
  absl::call_once(stop_once_, [this] { stopping_.Notify(); });
  absl::MutexLock lifecycle(&lifecycle_mu_);
  if (discovery_thread_.joinable()) discovery_thread_.join();
  if (workers_) workers_->Stop();
  workers_.reset();
  absl::MutexLock lock(&mu_);
  for (auto& [kind, informer] : jobs_) informer->Stop();
  if (pods_) pods_->Stop();
  if (services_) services_->Stop();
}

}  // namespace kubedl::reconciler
