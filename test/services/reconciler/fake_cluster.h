#pragma once
// Fakes of our own interfaces for the job controller's unit tests: an in-memory API server
// (kube::Client) whose informer caches only catch up when the test says so (Sync), so informer
// lag and restarts can be played out; an event recorder that keeps reasons; a settable clock; a
// gang client that answers what the test tells it.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/gang_client.h"
#include "core/pod_identity.h"
#include "kubedl/kube/clock.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/label_selector.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::reconciler::testing {

using kube::Object;

class SettableClock final : public kube::Clock {
 public:
  absl::Time Now() const override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

// A cache holding a snapshot of one resource, refreshed by FakeCluster::Sync.
class SnapshotCache final : public kube::ObjectCache {
 public:
  std::optional<Object> Get(const std::string& ns, const std::string& name) const override {
    auto it = objects_.find(kube::ObjectKey(ns, name));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<Object> List(const std::string& ns,
                           const kube::LabelSelector& selector) const override {
    std::vector<Object> out;
    for (const auto& [key, obj] : objects_) {
      if (!ns.empty() && kube::Namespace(obj) != ns) continue;
      kube::Labels labels;
      const Object& meta = obj["metadata"];
      if (auto it = meta.find("labels"); it != meta.end() && it->is_object()) {
        for (auto label = it->begin(); label != it->end(); ++label) {
          labels.emplace_back(label.key(), label.value().get<std::string>());
        }
      }
      if (selector.Matches(labels)) out.push_back(obj);
    }
    return out;
  }
  std::vector<Object> ByIndex(const std::string& index_name,
                              const std::string& value) const override {
    std::vector<Object> out;
    for (const auto& [key, obj] : objects_) {
      if (index_name == kube::kIndexControllerUid && kube::ControllerUid(obj) == value) {
        out.push_back(obj);
      }
      if (index_name == kIndexOrphanOfJob && OrphanOfJobIndex(obj) == std::vector{value}) {
        out.push_back(obj);
      }
    }
    return out;
  }
  std::vector<std::pair<std::string, std::string>> KeysAndVersions() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [key, obj] : objects_) out.emplace_back(key, kube::ResourceVersion(obj));
    return out;
  }
  size_t Size() const override { return objects_.size(); }

  std::map<std::string, Object> objects_;
};

// The API server: objects by resource plural, then "ns/name". Pods and services are deleted at
// once (no finalizers); the test plays the kubelet by SetPodPhase.
class FakeCluster final : public kube::Client {
 public:
  absl::StatusOr<Object> Get(const kube::ResourceRef& ref, const std::string& ns,
                             const std::string& name) override {
    absl::MutexLock lock(&mu_);
    auto& store = store_[ref.resource];
    auto it = store.find(kube::ObjectKey(ns, name));
    if (it == store.end()) return kube::MakeApiError(404, "NotFound", name + " not found");
    return it->second;
  }
  // Honours the label selector, as the API server does.
  absl::StatusOr<kube::ObjectList> List(const kube::ResourceRef& ref, const std::string& ns,
                                        const kube::ListOptions& options) override {
    auto selector = kube::LabelSelector::Parse(options.label_selector);
    if (!selector.ok()) return kube::MakeApiError(400, "BadRequest", selector.status().message());
    absl::MutexLock lock(&mu_);
    ++lists_;
    kube::ObjectList list;
    for (const auto& [key, obj] : store_[ref.resource]) {
      if ((ns.empty() || kube::Namespace(obj) == ns) && selector->Matches(kube::GetLabels(obj))) {
        list.items.push_back(obj);
      }
    }
    return list;
  }
  absl::StatusOr<Object> Create(const kube::ResourceRef& ref, const std::string& ns,
                                const Object& obj) override {
    if (before_create) before_create(ref.resource + "/" + kube::Name(obj));
    absl::MutexLock lock(&mu_);
    const std::string key = kube::ObjectKey(ns, kube::Name(obj));
    creates_.push_back(ref.resource + "/" + kube::Name(obj));
    if (auto refused = refused_creates_.find(ref.resource);
        refused != refused_creates_.end() && !refused->second.ok()) {
      return refused->second;
    }
    auto& store = store_[ref.resource];
    if (store.contains(key)) {
      return kube::MakeApiError(409, "AlreadyExists", kube::Name(obj) + " already exists");
    }
    Object stored = obj;
    stored["metadata"]["namespace"] = ns;
    stored["metadata"]["uid"] = absl::StrCat("uid-", ++serial_);
    stored["metadata"]["resourceVersion"] = absl::StrCat(++serial_);
    stored["metadata"]["creationTimestamp"] = "2027-01-15T08:00:00Z";
    store[key] = stored;
    return stored;
  }
  absl::StatusOr<Object> Update(const kube::ResourceRef& ref, const std::string& ns,
                                const Object& obj) override {
    return Write(ref, ns, obj, /*status_only=*/false);
  }
  absl::StatusOr<Object> UpdateStatus(const kube::ResourceRef& ref, const std::string& ns,
                                      const Object& obj) override {
    {
      absl::MutexLock lock(&mu_);
      if (absl::Status injected = CountStatusWrite(); !injected.ok()) return injected;
    }
    return Write(ref, ns, obj, /*status_only=*/true);
  }
  // A JSON Patch (RFC 6902, tests included) or, for any other type, a merge patch. To the status
  // subresource only the status changes, and the write counts as a status write.
  absl::StatusOr<Object> Patch(const kube::ResourceRef& ref, const std::string& ns,
                               const std::string& name, kube::PatchType type,
                               const Object& patch, const kube::PatchOptions& options) override {
    absl::MutexLock lock(&mu_);
    const bool status_only = options.subresource == "status";
    if (status_only) {
      if (absl::Status injected = CountStatusWrite(); !injected.ok()) return injected;
    }
    auto& store = store_[ref.resource];
    auto it = store.find(kube::ObjectKey(ns, name));
    if (it == store.end()) return kube::MakeApiError(404, "NotFound", name + " not found");
    if (type == kube::PatchType::kJson) {
      Object patched;
      try {
        patched = it->second.patch(patch);
      } catch (const Object::exception& e) {
        return kube::MakeApiError(422, "Invalid", e.what());
      }
      if (status_only) {
        it->second["status"] = patched["status"];
      } else {
        patched["metadata"]["uid"] = it->second["metadata"]["uid"];
        it->second = std::move(patched);
      }
    } else {
      Object clean_patch = patch;
      clean_patch["metadata"].erase("resourceVersion");
      clean_patch["metadata"].erase("uid");
      it->second.merge_patch(clean_patch);
    }
    it->second["metadata"]["resourceVersion"] = absl::StrCat(++serial_);
    return it->second;
  }
  absl::Status Delete(const kube::ResourceRef& ref, const std::string& ns,
                      const std::string& name, const kube::DeleteOptions&) override {
    absl::MutexLock lock(&mu_);
    deletes_.push_back(ref.resource + "/" + name);
    if (store_[ref.resource].erase(kube::ObjectKey(ns, name)) == 0) {
      return kube::MakeApiError(404, "NotFound", name + " not found");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<kube::WatchStream>> Watch(const kube::ResourceRef&,
                                                           const std::string&,
                                                           const kube::WatchOptions&) override {
    return absl::UnimplementedError("the job controller never watches directly");
  }
  absl::StatusOr<Object> GetPath(const std::string&) override {
    return absl::UnimplementedError("not used");
  }
  const std::string& DefaultNamespace() const override { return default_ns_; }

  // Called with "<resource>/<name>" before each create (on the creating thread); may throw to
  // play a bug, or change the caches to play a deletion mid-pass.
  std::function<void(const std::string&)> before_create;

  // The informers catch up with the API server.
  void Sync() {
    absl::MutexLock lock(&mu_);
    for (auto [cache, resource] : {std::pair{&pods, "pods"}, std::pair{&services, "services"},
                                   std::pair{&jobs, jobs_resource.c_str()}}) {
      cache->objects_ = store_[resource];
    }
  }

  // A write by someone else (a user, a test's kubelet): like every write, it gets a new
  // resourceVersion, so a writer holding the object as it was read before conflicts.
  void Put(const std::string& resource, Object obj) {
    absl::MutexLock lock(&mu_);
    obj["metadata"]["resourceVersion"] = absl::StrCat(++serial_);
    // json's operator= takes its argument by value: compute the key before moving.
    const std::string key = kube::ObjectKey(kube::Namespace(obj), kube::Name(obj));
    store_[resource][key] = std::move(obj);
  }
  std::optional<Object> Stored(const std::string& resource, const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = store_[resource].find(kube::ObjectKey("ns", name));
    if (it == store_[resource].end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> Names(const std::string& resource) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> names;
    for (const auto& [key, obj] : store_[resource]) names.push_back(kube::Name(obj));
    return names;
  }
  // Plays the kubelet: the pod's phase, and for a finished pod its container's exit code.
  void SetPodPhase(const std::string& name, const std::string& phase, int exit_code = 0,
                   const std::string& reason = "", int restarts = 0) {
    absl::MutexLock lock(&mu_);
    Object& pod = store_["pods"][kube::ObjectKey("ns", name)];
    Object status = {{"phase", phase}};
    Object cs = {{"name", "tensorflow"}, {"restartCount", restarts}};
    if (phase == "Succeeded" || phase == "Failed") {
      cs["state"] = {{"terminated",
                      {{"exitCode", exit_code},
                       {"reason", reason.empty() ? (exit_code == 0 ? "Completed" : "Error")
                                                 : reason}}}};
    } else {
      cs["state"] = {{"running", Object::object()}};
    }
    status["containerStatuses"] = Object::array({cs});
    pod["status"] = status;
    pod["metadata"]["resourceVersion"] = absl::StrCat(++serial_);
  }

  // The framework container of a terminated pod wrote `message` (its termination message).
  void SetTerminationMessage(const std::string& name, const std::string& message) {
    absl::MutexLock lock(&mu_);
    Object& pod = store_["pods"][kube::ObjectKey("ns", name)];
    pod["status"]["containerStatuses"][0]["state"]["terminated"]["message"] = message;
    pod["metadata"]["resourceVersion"] = absl::StrCat(++serial_);
  }

  // Every create of `resource` fails with `error` (a quota, a refusing admission webhook) until
  // this is called again with an OK status.
  void RefuseCreates(const std::string& resource, absl::Status error) {
    absl::MutexLock lock(&mu_);
    refused_creates_[resource] = std::move(error);
  }
  // The next `times` status writes fail with `error` (a conflict, an outage), whatever they send.
  void FailStatusWrites(const absl::Status& error, int times = 1) {
    absl::MutexLock lock(&mu_);
    failed_status_writes_.insert(failed_status_writes_.end(), times, error);
  }
  size_t CountCreates(const std::string& prefix) {
    absl::MutexLock lock(&mu_);
    return std::ranges::count_if(creates_, [&](const auto& c) { return c.starts_with(prefix); });
  }
  std::vector<std::string> deletes() {
    absl::MutexLock lock(&mu_);
    return deletes_;
  }
  int status_writes() {
    absl::MutexLock lock(&mu_);
    return status_writes_;
  }
  int lists() {
    absl::MutexLock lock(&mu_);
    return lists_;
  }

  SnapshotCache pods, services, jobs;
  // The resource whose objects the `jobs` cache mirrors.
  std::string jobs_resource = "tfjobs";

 private:
  absl::StatusOr<Object> Write(const kube::ResourceRef& ref, const std::string& ns,
                               const Object& obj, bool status_only) {
    absl::MutexLock lock(&mu_);
    auto& store = store_[ref.resource];
    auto it = store.find(kube::ObjectKey(ns, kube::Name(obj)));
    if (it == store.end()) return kube::MakeApiError(404, "NotFound", "not found");
    if (kube::ResourceVersion(obj) != kube::ResourceVersion(it->second)) {
      return kube::MakeApiError(409, "Conflict", "the object has been modified");
    }
    if (status_only) {
      it->second["status"] = obj.value("status", Object::object());
    } else {
      Object status = it->second.value("status", Object::object());
      it->second = obj;
      it->second["status"] = status;
    }
    it->second["metadata"]["resourceVersion"] = absl::StrCat(++serial_);
    return it->second;
  }

  // Counts a status write; the next failure injected for status writes, if any. Holds mu_.
  absl::Status CountStatusWrite() {
    ++status_writes_;
    if (failed_status_writes_.empty()) return absl::OkStatus();
    absl::Status error = failed_status_writes_.front();
    failed_status_writes_.erase(failed_status_writes_.begin());
    return error;
  }

  absl::Mutex mu_;
  std::map<std::string, std::map<std::string, Object>> store_;
  std::vector<std::string> creates_;
  std::map<std::string, absl::Status> refused_creates_;
  std::vector<std::string> deletes_;
  std::vector<absl::Status> failed_status_writes_;
  int status_writes_ = 0;
  int lists_ = 0;
  int serial_ = 0;
  std::string default_ns_ = "default";
};

class RecordingEvents final : public kube::EventRecorder {
 public:
  void Record(const Object&, const std::string& type, const std::string& reason,
              const std::string& message) override {
    absl::MutexLock lock(&mu_);
    events_.push_back({type, reason, message});
  }
  void Flush() override {}
  size_t Count(const std::string& reason) {
    absl::MutexLock lock(&mu_);
    return std::ranges::count_if(events_, [&](const auto& e) { return e.reason == reason; });
  }
  std::string TypeOf(const std::string& reason) { return Find(reason).type; }
  // The message of the first event of `reason` ("" when none).
  std::string MessageOf(const std::string& reason) { return Find(reason).message; }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }

 private:
  struct Event {
    std::string type, reason, message;
  };
  Event Find(const std::string& reason) {
    absl::MutexLock lock(&mu_);
    for (const auto& e : events_) {
      if (e.reason == reason) return e;
    }
    return {};
  }
  absl::Mutex mu_;
  std::vector<Event> events_;
};

class ScriptedGang final : public GangClient {
 public:
  absl::StatusOr<GangState> EnsureGang(const api::Job&) override {
    ++ensures;
    if (!ensure_error.ok()) return ensure_error;
    return GangState{admission, phase};
  }
  absl::StatusOr<GangState> GetGang(const api::Job&) override {
    return GangState{admission, ""};
  }
  absl::StatusOr<PodBinding> BindPod(const api::Job& job, const std::string& type, int32_t index,
                                     const std::string& template_scheduler) override {
    bound_template_schedulers.push_back(template_scheduler);
    if (!bind_error.ok()) return bind_error;
    PodBinding binding;
    binding.labels["gang-label"] = job.name;
    binding.annotations["gang-annotation"] = absl::StrCat(type, "-", index);
    binding.scheduler_name = scheduler_name;
    binding.warning = binding_warning;
    return binding;
  }
  absl::Status DeleteGang(const api::Job&) override {
    ++deletes;
    return delete_error;
  }

  absl::Status ensure_error = absl::OkStatus();
  absl::Status bind_error = absl::OkStatus();
  absl::Status delete_error = absl::OkStatus();
  GangAdmission admission = GangAdmission::kAdmitted;
  std::string phase = "Pending";  // the PodGroup phase EnsureGang reports
  std::string scheduler_name = "gang-scheduler";
  std::string binding_warning;
  // The schedulerName of each pod template BindPod was asked about.
  std::vector<std::string> bound_template_schedulers;
  int ensures = 0;
  int deletes = 0;
};

}  // namespace kubedl::reconciler::testing
