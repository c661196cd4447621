#include "kubedl/api/validation.h"

#include <algorithm>
#include <climits>
#include <regex>
#include <optional>
#include <set>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "kubedl/api/code_sync.h"
#include "kubedl/api/kubernetes_names.h"
#include "kubedl/common/json_access.h"
#include "kubedl/api/pod_schema.h"
#include "kinds/kind_hooks.h"

namespace kubedl::api {
namespace {

// Debian's abseil has its own string_view type.
inline absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr int64_t kMaxInt32 = INT32_MAX;

constexpr char kDns1123LabelMessage[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

// "" or alphanumerics with '-', '_', '.' inside, at most 63 characters: a label value, and the
// name part of a qualified name (which may not be empty).
bool IsLabelToken(std::string_view s) {
  if (s.empty()) return true;
  if (s.size() > 63) return false;
  auto alnum = [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::string LabelValueProblem(const std::string& value) {
  if (value.size() > 63) return "must be no more than 63 characters";
  if (!IsLabelToken(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', "
           "'_' or '.', and must start and end with an alphanumeric character";
  }
  return "";
}

// A label key: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63.
std::string QualifiedNameProblem(const std::string& key) {
  std::string_view name = key;
  if (size_t slash = key.find('/'); slash != std::string::npos) {
    std::string_view prefix = std::string_view(key).substr(0, slash);
    name = std::string_view(key).substr(slash + 1);
    const bool prefix_ok =
        !prefix.empty() && prefix.size() <= 253 &&
        std::all_of(prefix.begin(), prefix.end(), [](char c) {
          return absl::ascii_islower(static_cast<unsigned char>(c)) ||
                 absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        });
    if (!prefix_ok) return "prefix part must be a lowercase RFC 1123 subdomain";
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part must be no more than 63 characters";
  if (!IsLabelToken(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
           "and end with an alphanumeric character";
  }
  return "";
}

class Validator : public internal::KindValidation {
 public:
  Validator(const Job& job, const Job* old, const ValidationOptions& options)
      : KindValidation(job), old_(old), options_(options) {}

  FieldErrors Run() {
    ValidateName();
    ValidateReplicaSpecs();
    ValidateReplicaTotal();
    ValidateImpliedNames();
    ValidateRunPolicy();
    if (kind_.hooks != nullptr && kind_.hooks->validate != nullptr) kind_.hooks->validate(*this);
    if (job_.annotations.count(std::string(kCodeSyncAnnotation))) {
      (void)ParseCodeSyncConfig(job_.annotations.at(std::string(kCodeSyncAnnotation)), &errors_);
    }
    if (old_ != nullptr) ValidateUpdate();
    return std::move(errors_);
  }

 private:
  void ValidateName() {
    if (job_.name.empty()) {
      // generateName: the API server picks the name after mutating admission. (Looked up in
      // place: binding `meta` to a conditional with a temporary copied all of metadata.)
      auto meta = job_.raw.find("metadata");
      if (meta != job_.raw.end() && meta->is_object() && meta->contains("generateName")) return;
      errors_.push_back(Required("metadata.name"));
      return;
    }
    if (!IsDns1035Label(job_.name)) {
      errors_.push_back(Invalid(
          "metadata.name", job_.name,
          job_.name.size() > 63
              ? "must be no more than 63 characters"
              : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                "start with an alphabetic character, and end with an alphanumeric character "
                "(regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
    }
  }

  void ValidateReplicaSpecs() {
    const auto& replicas = job_.spec.replica_specs;
    if (replicas.empty()) {
      errors_.push_back(Required(MapPath(), "at least one replica type must be specified"));
      return;
    }
    std::vector<std::string> supported(kind_.replica_types.begin(), kind_.replica_types.end());
    std::set<std::string> seen;
    for (const Replica& replica : replicas) {
      std::string path = ReplicaPath(replica.type);
      std::string_view canonical = CanonicalReplicaType(kind_, replica.type);
      if (canonical.empty()) {
        errors_.push_back(NotSupported(path, replica.type, supported));
      } else if (!seen.insert(std::string(canonical)).second) {
        errors_.push_back(Duplicate(path, std::string(canonical)));
      }
      NonNegative(replica.spec.replicas, path + ".replicas",
                  std::min(kMaxInt32, options_.max_replicas_per_type));
      OneOf(replica.spec.restart_policy, path + ".restartPolicy",
            {"Always", "OnFailure", "Never", "ExitCode"});
      ValidateTemplate(replica.spec.template_spec, path + ".template");
    }
  }

  // The replicas of all types together, within the cluster's limit. Each type counts at most
  // its own limit, so one type over it is reported once, above.
  void ValidateReplicaTotal() {
    int64_t total = 0;
    for (const Replica& replica : job_.spec.replica_specs) {
      total += std::clamp<int64_t>(replica.spec.replicas.value_or(1), 0,
                                   std::min(kMaxInt32, options_.max_replicas_per_type));
    }
    if (total > options_.max_replicas_per_job) {
      errors_.push_back(Invalid(MapPath(), total,
                                absl::StrCat("the replicas of all types add up to more than the "
                                             "maximum of ", options_.max_replicas_per_job,
                                             " per job")));
    }
  }

  // Every pod and service the job implies has a valid name: the service of the highest index
  // of each type is a DNS-1035 label (pod names, DNS-1123 subdomains of up to 253 characters,
  // are then valid too). A generated name adds 5 characters to generateName.
  void ValidateImpliedNames() {
    std::string name = job_.name;
    if (name.empty()) {
      auto meta = job_.raw.find("metadata");
      if (meta == job_.raw.end() || !meta->is_object()) return;
      auto generate = meta->find("generateName");
      if (generate == meta->end() || !generate->is_string()) return;
      name = generate->get<std::string>() + "xxxxx";
    }
    if (!IsDns1035Label(name)) return;  // reported by ValidateName
    // One message, about the longest name: the other types only repeat it.
    std::string longest, type;
    int64_t index = 0;
    for (const Replica& replica : job_.spec.replica_specs) {
      const int64_t replicas = replica.spec.replicas.value_or(1);
      if (replicas <= 0 || replicas > kMaxInt32) continue;
      std::string candidate = ReplicaObjectName(kind_, name, replica.type, replicas - 1);
      if (candidate.size() > longest.size()) {
        longest = std::move(candidate);
        type = replica.type;
        index = replicas - 1;
      }
    }
    if (longest.size() <= 63) return;
    const bool generated = job_.name.empty();
    const int64_t suffix = static_cast<int64_t>(longest.size() - name.size());
    errors_.push_back(Invalid(
        generated ? "metadata.generateName" : "metadata.name",
        generated ? Json(name.substr(0, name.size() - 5)) : Json(job_.name),
        absl::StrCat("must be no more than ", 63 - suffix - (generated ? 5 : 0),
                     " characters: the service of ", type, " replica ", index,
                     " would be named \"", longest, "\" (", longest.size(),
                     " characters), and a service name must be a DNS-1035 label of at most 63 "
                     "characters")));
  }

  void ValidateTemplate(const Json& pod_template, const std::string& path) {
    size_t first = errors_.size();
    ValidateContainers(pod_template, path);
    ValidateTemplateLabels(pod_template, path);
    CheckPodSchema(pod_template, path, first);
  }

  // Label keys and values of the template, as the API server checks a pod's (the pod gets
  // them, plus ours). Values of other types are the schema check's.
  void ValidateTemplateLabels(const Json& pod_template, const std::string& path) {
    const Json* labels = common::MemberPath(pod_template, {"metadata", "labels"});
    if (labels == nullptr || !labels->is_object()) return;
    const std::string lpath = path + ".metadata.labels";
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      if (std::string problem = QualifiedNameProblem(it.key()); !problem.empty()) {
        errors_.push_back(Invalid(lpath, it.key(), problem));
      }
      if (!it->is_string()) continue;
      if (std::string problem = LabelValueProblem(it->get_ref<const std::string&>());
          !problem.empty()) {
        errors_.push_back(Invalid(absl::StrCat(lpath, "[", it.key(), "]"), *it, problem));
      }
    }
  }

  // Ports within the range the API server allows (a type error is the schema check's).
  void ValidatePorts(const Json& container, const std::string& item) {
    const Json* ports = common::Member(container, "ports");
    if (ports == nullptr || !ports->is_array()) return;
    for (size_t j = 0; j < ports->size(); ++j) {
      const std::string ppath = absl::StrCat(item, ".ports[", j, "]");
      if (std::optional<int64_t> port = common::IntAt((*ports)[j], "containerPort");
          port && (*port < 1 || *port > 65535)) {
        errors_.push_back(Invalid(ppath + ".containerPort", *port,
                                  "must be between 1 and 65535, inclusive"));
      }
      if (std::optional<int64_t> port = common::IntAt((*ports)[j], "hostPort");
          port && *port != 0 && (*port < 1 || *port > 65535)) {
        errors_.push_back(Invalid(ppath + ".hostPort", *port,
                                  "must be between 1 and 65535, inclusive"));
      }
    }
  }

  // Types, required fields and enums of core/v1 (pod_schema.h). A path the container checks
  // already reported (a missing name, ports that are not a list, ...) is not reported twice.
  void CheckPodSchema(const Json& pod_template, const std::string& path, size_t first) {
    const PodSchema& schema =
        options_.pod_schema != nullptr ? *options_.pod_schema : *PodSchema::BuiltIn();
    FieldErrors found;
    schema.Check(pod_template, path, &found);
    for (FieldError& e : found) {
      if (std::none_of(errors_.begin() + static_cast<std::ptrdiff_t>(first), errors_.end(),
                       [&](const FieldError& reported) { return reported.path == e.path; })) {
        errors_.push_back(std::move(e));
      }
    }
  }

  void ValidateContainers(const Json& pod_template, const std::string& path) {
    const Json* containers = nullptr;
    if (pod_template.is_object() && pod_template.contains("spec")) {
      const Json& spec = pod_template["spec"];
      if (!spec.is_object()) {
        errors_.push_back(Invalid(path + ".spec", spec, "must be of type object"));
        return;
      }
      if (spec.contains("containers")) containers = &spec["containers"];
    }
    std::string cpath = path + ".spec.containers";
    if (containers == nullptr || containers->is_null() ||
        (containers->is_array() && containers->empty())) {
      errors_.push_back(Required(cpath, "at least one container is required"));
      return;
    }
    if (!containers->is_array()) {
      errors_.push_back(Invalid(cpath, *containers, "must be of type array"));
      return;
    }
    bool named = false;
    for (size_t i = 0; i < containers->size(); ++i) {
      const Json& c = (*containers)[i];
      std::string item = absl::StrCat(cpath, "[", i, "]");
      if (!c.is_object()) {
        errors_.push_back(Invalid(item, c, "must be of type object"));
        continue;
      }
      auto image = c.find("image");
      if (image == c.end() || !image->is_string() || image->get<std::string>().empty()) {
        errors_.push_back(Required(item + ".image"));
      }
      auto name = c.find("name");
      if (name == c.end() || !name->is_string() || name->get<std::string>().empty()) {
        errors_.push_back(Required(item + ".name"));
      } else if (std::find(kind_.accepted_container_names.begin(),
                           kind_.accepted_container_names.end(),
                           name->get<std::string>()) != kind_.accepted_container_names.end()) {
        named = true;
      } else if (!IsDns1123Label(name->get<std::string>())) {
        errors_.push_back(Invalid(item + ".name", *name, kDns1123LabelMessage));
      }
      ValidatePorts(c, item);
      if (auto ports = c.find("ports"); ports != c.end() && !ports->is_null() && !ports->is_array()) {
        errors_.push_back(Invalid(item + ".ports", *ports, "must be of type array"));
      }
    }
    // A kind without a container name (MPI) takes its framework container from elsewhere.
    if (!named && !kind_.accepted_container_names.empty()) {
      errors_.push_back(Required(
          cpath, absl::StrCat("one container must be named \"", A(kind_.container_name), "\"")));
    }
  }

  void ValidateRunPolicyFields(const RunPolicy& p, const std::string& path) {
    OneOf(p.clean_pod_policy, path + ".cleanPodPolicy", {"All", "Running", "None"});
    NonNegative(p.ttl_seconds_after_finished, path + ".ttlSecondsAfterFinished");
    NonNegative(p.active_deadline_seconds, path + ".activeDeadlineSeconds", INT64_MAX);
    NonNegative(p.backoff_limit, path + ".backoffLimit");
    if (p.scheduling_policy) {
      std::string sp = path + ".schedulingPolicy";
      NonNegative(p.scheduling_policy->min_available, sp + ".minAvailable");
      NonNegative(p.scheduling_policy->schedule_timeout_seconds, sp + ".scheduleTimeoutSeconds");
    }
  }

  void ValidateRunPolicy() {
    if (job_.spec.run_policy) ValidateRunPolicyFields(*job_.spec.run_policy, "spec.runPolicy");
    ValidateRunPolicyFields(job_.spec.legacy_run_policy, "spec");
  }

  void ValidateUpdate() {
    auto queue_of = [](const Job& j) -> std::optional<std::string> {
      RunPolicy p = EffectiveRunPolicy(j.spec);
      return p.scheduling_policy ? p.scheduling_policy->queue : std::nullopt;
    };
    auto old_queue = queue_of(*old_);
    if (old_queue && !old_queue->empty() && queue_of(job_) != old_queue) {
      errors_.push_back(Invalid("spec.runPolicy.schedulingPolicy.queue",
                                queue_of(job_) ? Json(*queue_of(job_)) : Json(nullptr),
                                "field is immutable"));
    }
    auto types = [this](const Job& j) {
      std::set<std::string> out;
      for (const auto& r : j.spec.replica_specs) {
        std::string_view c = CanonicalReplicaType(kind_, r.type);
        out.insert(c.empty() ? r.type : std::string(c));
      }
      return out;
    };
    if (!old_->spec.replica_specs.empty() && types(job_) != types(*old_)) {
      errors_.push_back(Forbidden(MapPath(),
                                  "replica types cannot be added or removed after creation"));
    }
  }

  const Job* old_;
  const ValidationOptions& options_;
};

}  // namespace

namespace internal {

std::string KindValidation::MapPath() const {
  return absl::StrCat("spec.", A(kind_.replica_specs_key));
}

std::string KindValidation::ReplicaPath(const std::string& type) const {
  return absl::StrCat(MapPath(), "[", type, "]");
}

void KindValidation::NonNegative(const std::optional<int64_t>& v, const std::string& path,
                                 int64_t max) {
  if (!v) return;
  if (*v < 0) {
    errors_.push_back(Invalid(path, *v, "must be greater than or equal to 0"));
  } else if (*v > max) {
    errors_.push_back(Invalid(path, *v, absl::StrCat("must be less than or equal to ", max)));
  }
}

void KindValidation::OneOf(const std::optional<std::string>& v, const std::string& path,
                           const std::vector<std::string>& allowed) {
  if (v && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
    errors_.push_back(NotSupported(path, *v, allowed));
  }
}

void KindValidation::MasterWorker(bool master_required) {
  const Replica* master = job_.FindReplica("Master");
  if (master == nullptr) {
    if (master_required) {
      errors_.push_back(Required(ReplicaPath("Master"), "a Master replica is required"));
    }
  } else if (master->spec.replicas.value_or(1) != 1) {
    errors_.push_back(Invalid(ReplicaPath("Master") + ".replicas", *master->spec.replicas,
                              "must be 1"));
  }
}

}  // namespace internal

FieldErrors ValidateJob(const Job& job, const Job* old_job, const ValidationOptions& options) {
  return Validator(job, old_job, options).Run();
}

}  // namespace kubedl::api
