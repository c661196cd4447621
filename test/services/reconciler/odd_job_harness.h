#pragma once
// One job through a few reconcile passes on a fresh in-memory cluster (fake_cluster.h), and what
// became of it: for the reconciler's property test and fuzzer (issue 13). The API server here
// refuses pods and services the real one would refuse for their shape (a string containerPort,
// a label that is not a string, a service name longer than 63 characters, ...) with 422 Invalid,
// as the real one does; the reconciler then fails the job with <Kind>FailedValidation. So a job whose
// templates slip past the reconciler's validation shows up as FailedValidation after refused creates
// (JobOutcome::refusals not empty, pod_creates or service_creates above 0), the way it would on a
// real cluster.
//
//   ThreadPoolParallelRunner runner(2);
//   OddJobRun run(runner);
//   JobOutcome out = run.Run(job_object, api::JobKind::kTFJob);
//   out.end == JobOutcome::End::kPods ...
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/expectations.h"
#include "core/job_reconciler.h"
#include "core/parallel_runner.h"
#include "core/pod_identity.h"
#include "fake_cluster.h"
#include "kubedl/api/json.h"
#include "kubedl/api/kind.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"

namespace kubedl::reconciler::testing {

// Events with their messages.
class EventLog final : public kube::EventRecorder {
 public:
  struct Event {
    std::string type, reason, message;
  };
  void Record(const Object&, const std::string& type, const std::string& reason,
              const std::string& message) override {
    absl::MutexLock lock(&mu_);
    events_.push_back({type, reason, message});
  }
  void Flush() override {}
  std::vector<Event> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Event> events_;
};

// The shape checks the real API server makes on the pods and services the reconciler creates
// (a subset: types, names, ports, labels); "" when the object would be stored.
inline std::string ApiServerRefusal(const std::string& resource, const Object& obj) {
  // A DNS-1123 subdomain of at most `max` characters (with dots), or label (without).
  auto is_label = [](const std::string& s, size_t max, bool dots = true) {
    if (s.empty() || s.size() > max) return false;
    if (!absl::ascii_isalnum(s.front()) || !absl::ascii_isalnum(s.back())) return false;
    for (char c : s) {
      if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || (dots && c == '.'))) {
        return false;
      }
    }
    return true;
  };
  // A label value ("" allowed) or the name part of a label key: alphanumerics with '-', '_' and
  // '.' inside, at most 63 characters.
  auto is_label_token = [](const std::string& s) {
    if (s.empty()) return true;
    if (s.size() > 63 || !absl::ascii_isalnum(s.front()) || !absl::ascii_isalnum(s.back())) {
      return false;
    }
    for (char c : s) {
      if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
    }
    return true;
  };
  auto is_label_key = [&](const std::string& key) {
    const size_t slash = key.find('/');
    const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
    if (slash != std::string::npos && !is_label(key.substr(0, slash), 253)) return false;
    return !name.empty() && is_label_token(name);
  };
  auto strings_map = [](const Object& m) {
    if (m.is_null()) return true;
    if (!m.is_object()) return false;
    for (const auto& [k, v] : m.items()) {
      if (!v.is_string() || k.empty()) return false;
    }
    return true;
  };
  auto strings_list = [](const Object& l) {
    if (l.is_null()) return true;
    if (!l.is_array()) return false;
    for (const Object& v : l) {
      if (!v.is_string()) return false;
    }
    return true;
  };
  auto port_number = [](const Object& p) {
    return p.is_number_integer() && p.get<int64_t>() >= 1 && p.get<int64_t>() <= 65535;
  };
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) {
    return "metadata: Required value";
  }
  const Object& meta = obj["metadata"];
  const std::string name = meta.value("name", Object()).is_string() ? kube::Name(obj) : "";
  if (!is_label(name, resource == "services" ? 63 : 253) ||
      (resource == "services" && (name.find('.') != std::string::npos ||
                                  !absl::ascii_isalpha(name.front())))) {
    return "metadata.name: Invalid value";
  }
  if (meta.contains("labels")) {
    if (!strings_map(meta["labels"])) return "metadata.labels: must be a map of strings";
    for (const auto& [k, v] : meta["labels"].items()) {
      if (!is_label_key(k)) return absl::StrCat("metadata.labels: Invalid value: \"", k, "\"");
      const std::string value = v.get<std::string>();
      if (value.size() > 63) return absl::StrCat("metadata.labels[", k, "]: too long");
      if (!is_label_token(value)) return absl::StrCat("metadata.labels[", k, "]: Invalid value");
    }
  }
  if (meta.contains("annotations") && !strings_map(meta["annotations"])) {
    return "metadata.annotations: must be a map of strings";
  }
  if (!obj.contains("spec") || !obj["spec"].is_object()) return "spec: Required value";
  const Object& spec = obj["spec"];
  if (resource == "services") {
    if (!spec.contains("ports") || !spec["ports"].is_array()) return "spec.ports: Required value";
    for (const Object& p : spec["ports"]) {
      if (!p.is_object() || !port_number(p.value("port", Object()))) return "spec.ports: Invalid";
    }
    return "";
  }
  if (spec.contains("nodeSelector") && !strings_map(spec["nodeSelector"])) {
    return "spec.nodeSelector: must be a map of strings";
  }
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec.contains(list)) {
      if (std::string(list) == "containers") return "spec.containers: Required value";
      continue;
    }
    const Object& containers = spec[list];
    if (!containers.is_array() || (std::string(list) == "containers" && containers.empty())) {
      return absl::StrCat("spec.", list, ": Invalid value");
    }
    for (const Object& c : containers) {
      if (!c.is_object()) return absl::StrCat("spec.", list, ": must be objects");
      const Object& cname = c.value("name", Object());
      if (!cname.is_string() || !is_label(cname.get<std::string>(), 63, /*dots=*/false)) {
        return absl::StrCat("spec.", list, "[].name: Invalid value");
      }
      const Object& image = c.value("image", Object());
      if (!image.is_string() || image.get<std::string>().empty()) {
        return absl::StrCat("spec.", list, "[].image: Required value");
      }
      if (!strings_list(c.value("args", Object())) || !strings_list(c.value("command", Object()))) {
        return absl::StrCat("spec.", list, "[].args: must be strings");
      }
      const Object& ports = c.value("ports", Object());
      if (!ports.is_null()) {
        if (!ports.is_array()) return absl::StrCat("spec.", list, "[].ports: must be a list");
        for (const Object& p : ports) {
          if (!p.is_object() || !port_number(p.value("containerPort", Object()))) {
            return absl::StrCat("spec.", list, "[].ports[].containerPort: Invalid value");
          }
          const Object& host = p.value("hostPort", Object());
          if (!host.is_null() && !(host == 0 || port_number(host))) {
            return absl::StrCat("spec.", list, "[].ports[].hostPort: Invalid value");
          }
        }
      }
      const Object& env = c.value("env", Object());
      if (!env.is_null()) {
        if (!env.is_array()) return absl::StrCat("spec.", list, "[].env: must be a list");
        for (const Object& e : env) {
          if (!e.is_object() || !e.value("name", Object()).is_string() ||
              (e.contains("value") && !e["value"].is_string() && !e["value"].is_null())) {
            return absl::StrCat("spec.", list, "[].env: Invalid value");
          }
        }
      }
    }
  }
  return "";
}

// The in-memory cluster with the real API server's refusals of malformed pods and services.
class ShapeCheckingClient final : public kube::Client {
 public:
  explicit ShapeCheckingClient(FakeCluster& cluster) : cluster_(cluster) {}

  absl::StatusOr<Object> Get(const kube::ResourceRef& ref, const std::string& ns,
                             const std::string& name) override {
    return cluster_.Get(ref, ns, name);
  }
  absl::StatusOr<kube::ObjectList> List(const kube::ResourceRef& ref, const std::string& ns,
                                        const kube::ListOptions& options) override {
    return cluster_.List(ref, ns, options);
  }
  absl::StatusOr<Object> Create(const kube::ResourceRef& ref, const std::string& ns,
                                const Object& obj) override {
    if (ref.resource == "pods" || ref.resource == "services") {
      if (std::string refusal = ApiServerRefusal(ref.resource, obj); !refusal.empty()) {
        absl::MutexLock lock(&mu_);
        refusals_.push_back(absl::StrCat(ref.resource, ": ", refusal));
        return kube::MakeApiError(422, "Invalid", refusal);
      }
    }
    return cluster_.Create(ref, ns, obj);
  }
  absl::StatusOr<Object> Update(const kube::ResourceRef& ref, const std::string& ns,
                                const Object& obj) override {
    return cluster_.Update(ref, ns, obj);
  }
  absl::StatusOr<Object> UpdateStatus(const kube::ResourceRef& ref, const std::string& ns,
                                      const Object& obj) override {
    return cluster_.UpdateStatus(ref, ns, obj);
  }
  absl::StatusOr<Object> Patch(const kube::ResourceRef& ref, const std::string& ns,
                               const std::string& name, kube::PatchType type, const Object& patch,
                               const kube::PatchOptions& options) override {
    return cluster_.Patch(ref, ns, name, type, patch, options);
  }
  absl::Status Delete(const kube::ResourceRef& ref, const std::string& ns,
                      const std::string& name, const kube::DeleteOptions& options) override {
    return cluster_.Delete(ref, ns, name, options);
  }
  absl::StatusOr<std::unique_ptr<kube::WatchStream>> Watch(
      const kube::ResourceRef& ref, const std::string& ns,
      const kube::WatchOptions& options) override {
    return cluster_.Watch(ref, ns, options);
  }
  absl::StatusOr<Object> GetPath(const std::string& path) override {
    return cluster_.GetPath(path);
  }
  const std::string& DefaultNamespace() const override { return cluster_.DefaultNamespace(); }

  std::vector<std::string> refusals() {
    absl::MutexLock lock(&mu_);
    return refusals_;
  }

 private:
  FakeCluster& cluster_;
  absl::Mutex mu_;
  std::vector<std::string> refusals_;
};

struct JobOutcome {
  enum class End {
    kPods,            // it has pods
    kInvalidSpec,     // Failed with reason <Kind>FailedValidation
    kOtherCondition,  // no pods, but Failed, Succeeded or Suspended with a reason and message
    kNoPodsAsked,     // every replica count is 0 and the job is Created
    kNothing,         // none of these: the property is broken
  };
  End end = End::kNothing;
  size_t pods = 0;
  size_t services = 0;
  size_t pod_creates = 0;      // create requests for pods, refused or not
  size_t service_creates = 0;
  int barrier_catches = 0;     // reconciles whose exception the error barrier caught
  std::string escaped;         // what escaped JobReconciler::Reconcile, if anything
  bool last_pass_retries = false;  // the last pass asked for a rate-limited retry
  Object final_job;            // as stored after the last pass
  Object failed;               // the Failed condition, or null
  std::vector<EventLog::Event> events;
  std::vector<std::string> refusals;  // creates the API server refused, and why

  std::string Summary() const {
    std::string s = absl::StrCat("pods=", pods, " services=", services, " barrier=", barrier_catches,
                                 " conditions=",
                                 final_job.is_object() && final_job.contains("status")
                                     ? final_job["status"].dump(-1, ' ', false,
                                                                Object::error_handler_t::replace)
                                     : "none");
    for (const auto& e : events) {
      if (e.type == "Warning") absl::StrAppend(&s, " | ", e.reason, ": ", e.message.substr(0, 300));
    }
    for (const auto& r : refusals) absl::StrAppend(&s, " | refused ", r);
    return s;
  }
};

inline const char* EndName(JobOutcome::End end) {
  switch (end) {
    case JobOutcome::End::kPods: return "pods";
    case JobOutcome::End::kInvalidSpec: return "FailedValidation";
    case JobOutcome::End::kOtherCondition: return "other condition";
    case JobOutcome::End::kNoPodsAsked: return "no pods asked";
    case JobOutcome::End::kNothing: return "nothing";
  }
  return "?";
}

// Runs jobs, one fresh cluster and reconciler each; `runner` is shared (the process's pool).
class OddJobRun {
 public:
  explicit OddJobRun(ParallelRunner& runner) : runner_(runner) {}

  // `passes` reconciles; after the first, the fake kubelet sets every pod Running.
  JobOutcome Run(const api::Json& job, api::JobKind kind, int passes = 3) {
    const api::KindDescriptor& d = api::Describe(kind);
    const kube::ResourceRef ref{std::string(d.group), std::string(d.version),
                                std::string(d.plural), true};
    FakeCluster cluster;
    ShapeCheckingClient client(cluster);
    SettableClock clock;
    Expectations expectations(clock);
    EventLog events;
    std::map<api::JobKind, SnapshotCache> job_caches;
    JobOutcome out;

    ReconcilerDeps deps;
    deps.client = &client;
    for (const api::KindDescriptor& k : api::AllKinds()) job_caches[k.kind];
    deps.jobs = [&](api::JobKind k) -> const kube::ObjectCache* { return &job_caches.at(k); };
    deps.pods = &cluster.pods;
    deps.services = &cluster.services;
    deps.events = &events;
    deps.expectations = &expectations;
    deps.clock = &clock;
    deps.create_runner = &runner_;
    deps.on_unexpected_error = [&](const std::string&) { ++out.barrier_catches; };
    JobReconciler reconciler(std::move(deps));

    Object stored =
        Object::parse(job.dump(-1, ' ', false, api::Json::error_handler_t::replace));
    cluster.Put(std::string(d.plural), stored);
    const std::string ns = kube::Namespace(stored);
    const std::string name = kube::Name(stored);
    auto sync = [&] {
      cluster.Sync();
      job_caches[kind].objects_.clear();
      if (auto list = cluster.List(ref, "", {}); list.ok()) {
        for (const Object& o : list->items) job_caches[kind].objects_[kube::ObjectKey(o)] = o;
      }
    };
    for (int pass = 0; pass < passes; ++pass) {
      sync();
      kube::ReconcileResult result;
      try {
        result = reconciler.Reconcile(JobKey(kind, ns, name));
      } catch (const std::exception& e) {
        out.escaped = e.what();
        break;
      } catch (...) {
        out.escaped = "unknown exception";
        break;
      }
      out.last_pass_retries = result.error || result.requeue;
      if (pass == 0) {
        for (const std::string& pod : cluster.Names("pods")) cluster.SetPodPhase(pod, "Running");
      }
      clock.Advance(absl::Seconds(1));
    }

    out.pods = cluster.Names("pods").size();
    out.services = cluster.Names("services").size();
    out.pod_creates = cluster.CountCreates("pods/");
    out.service_creates = cluster.CountCreates("services/");
    out.events = events.events();
    out.refusals = client.refusals();
    absl::StatusOr<Object> final_job = cluster.Get(ref, ns, name);
    out.final_job = final_job.ok() ? *final_job : Object();
    out.end = Classify(out, job);
    return out;
  }

 private:
  static const Object* TrueCondition(const Object& job, const std::string& type) {
    if (!job.is_object() || !job.contains("status") || !job["status"].is_object()) return nullptr;
    auto it = job["status"].find("conditions");  // a reference into `job`, not a copy
    if (it == job["status"].end() || !it->is_array()) return nullptr;
    const Object& conditions = *it;
    for (const Object& c : conditions) {
      if (c.is_object() && c.value("type", Object()) == type && c.value("status", Object()) == "True") {
        return &c;
      }
    }
    return nullptr;
  }

  // True when every replica count written is an integer 0 (and there is at least one).
  static bool AsksForNoPods(const api::Json& job) {
    auto spec = job.find("spec");
    if (spec == job.end() || !spec->is_object()) return false;
    bool any = false;
    for (const auto& [key, map] : spec->items()) {
      if (!key.ends_with("ReplicaSpecs") || !map.is_object()) continue;
      for (const auto& [type, r] : map.items()) {
        any = true;
        auto replicas = r.is_object() ? r.find("replicas") : r.end();
        if (!r.is_object() || replicas == r.end() || !replicas->is_number_integer() ||
            replicas->get<int64_t>() != 0) {
          return false;
        }
      }
    }
    return any;
  }

  static JobOutcome::End Classify(JobOutcome& out, const api::Json& job) {
    const Object* failed = TrueCondition(out.final_job, "Failed");
    if (failed != nullptr) out.failed = *failed;
    if (failed != nullptr && failed->value("reason", Object()).is_string() &&
        failed->value("reason", "").ends_with("FailedValidation")) {
      return JobOutcome::End::kInvalidSpec;
    }
    if (out.pods > 0) return JobOutcome::End::kPods;
    for (const char* type : {"Failed", "Succeeded", "Suspended"}) {
      const Object* c = TrueCondition(out.final_job, type);
      if (c != nullptr && c->value("reason", Object()).is_string() &&
          !c->value("reason", std::string()).empty() && c->value("message", Object()).is_string() &&
          !c->value("message", std::string()).empty()) {
        return JobOutcome::End::kOtherCondition;
      }
    }
    if (AsksForNoPods(job) && TrueCondition(out.final_job, "Created") != nullptr) {
      return JobOutcome::End::kNoPodsAsked;
    }
    return JobOutcome::End::kNothing;
  }

  ParallelRunner& runner_;
};

}  // namespace kubedl::reconciler::testing
