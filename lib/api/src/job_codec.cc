#include "kubedl/api/job_codec.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "codec_fields.h"
#include "kinds/kind_hooks.h"

namespace kubedl::api {
namespace internal {

std::string JoinPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : absl::StrCat(parent, ".", std::string(key));
}

const Json* FieldReader::Get(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<int64_t> FieldReader::Int(const Json& obj, std::string_view key,
                                        const std::string& path) {
  const Json* v = Get(obj, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX}) {
      TypeError(path, key, *v, "must be a 64-bit integer");
      return std::nullopt;
    }
    return v->get<int64_t>();
  }
  TypeError(path, key, *v, "must be of type integer");
  return std::nullopt;
}

std::optional<std::string> FieldReader::String(const Json& obj, std::string_view key,
                                               const std::string& path) {
  const Json* v = Get(obj, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  TypeError(path, key, *v, "must be of type string");
  return std::nullopt;
}

std::optional<bool> FieldReader::Bool(const Json& obj, std::string_view key,
                                      const std::string& path) {
  const Json* v = Get(obj, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  TypeError(path, key, *v, "must be of type boolean");
  return std::nullopt;
}

const Json* FieldReader::Object(const Json& obj, std::string_view key, const std::string& path) {
  const Json* v = Get(obj, key);
  return v == nullptr || v->is_object() ? v : Mistyped(path, key, *v, "object");
}

const Json* FieldReader::Array(const Json& obj, std::string_view key, const std::string& path) {
  const Json* v = Get(obj, key);
  return v == nullptr || v->is_array() ? v : Mistyped(path, key, *v, "array");
}

const Json* FieldReader::Mistyped(const std::string& path, std::string_view key, const Json& v,
                                  const char* type) {
  TypeError(path, key, v, std::string("must be of type ") + type);
  return nullptr;
}

void FieldReader::TypeError(const std::string& path, std::string_view key, const Json& v,
                            std::string what) {
  errors_->push_back(Invalid(JoinPath(path, key), v, std::move(what)));
}

Json& ObjectAt(Json& obj, const char* key) {
  if (obj.is_null()) obj = Json::object();
  Json& v = MemberOf(obj, key);
  if (!v.is_object()) v = Json::object();
  return v;
}

// The run policy's keys, in spec.runPolicy and (legacy) directly under spec. Each list, in JSON
// order, serves both ParseJob and ToJson.
template <>
struct JsonFields<SchedulingPolicy> {
  template <class V, class S>
  static void Visit(V&& v, S& p) {
    v("minAvailable", p.min_available), v("queue", p.queue), v("minResources", p.min_resources),
        v("priorityClass", p.priority_class),
        v("scheduleTimeoutSeconds", p.schedule_timeout_seconds);
  }
};

template <>
struct JsonFields<RunPolicy> {
  template <class V, class S>
  static void Visit(V&& v, S& p) {
    v("cleanPodPolicy", p.clean_pod_policy),
        v("ttlSecondsAfterFinished", p.ttl_seconds_after_finished),
        v("activeDeadlineSeconds", p.active_deadline_seconds), v("backoffLimit", p.backoff_limit),
        v("suspend", p.suspend), v("schedulingPolicy", p.scheduling_policy);
  }
};

}  // namespace internal

namespace {

using internal::FieldReader;
using internal::ObjectAt;
using internal::Put;

const Json* FindEntry(const Json& map, const std::string& type) {
  if (!map.is_object()) return nullptr;
  if (auto it = map.find(type); it != map.end()) return &*it;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (absl::EqualsIgnoreCase(it.key(), type)) return &*it;
  }
  return nullptr;
}

JobStatus ReadStatus(FieldReader& r, const Json& obj) {
  JobStatus s;
  if (const Json* conditions = r.Array(obj, "conditions", "status")) {
    for (size_t i = 0; i < conditions->size(); ++i) {
      const Json& c = (*conditions)[i];
      std::string path = absl::StrCat("status.conditions[", i, "]");
      s.conditions.push_back(JobCondition{r.String(c, "type", path).value_or(""),
                                          r.String(c, "status", path).value_or(""),
                                          r.String(c, "reason", path).value_or(""),
                                          r.String(c, "message", path).value_or(""),
                                          r.String(c, "lastUpdateTime", path).value_or(""),
                                          r.String(c, "lastTransitionTime", path).value_or("")});
    }
  }
  if (const Json* statuses = r.Object(obj, "replicaStatuses", "status")) {
    for (auto it = statuses->begin(); it != statuses->end(); ++it) {
      std::string path = absl::StrCat("status.replicaStatuses[", it.key(), "]");
      ReplicaStatus rs;
      rs.active = r.Int(*it, "active", path).value_or(0);
      rs.succeeded = r.Int(*it, "succeeded", path).value_or(0);
      rs.failed = r.Int(*it, "failed", path).value_or(0);
      rs.selector = r.String(*it, "selector", path);
      s.replica_statuses[it.key()] = rs;
    }
  }
  s.start_time = r.String(obj, "startTime", "status");
  s.completion_time = r.String(obj, "completionTime", "status");
  s.last_reconcile_time = r.String(obj, "lastReconcileTime", "status");
  return s;
}

void WriteStatus(Json& obj, const JobStatus& s) {
  Json conditions = Json::array();
  for (const auto& c : s.conditions) {
    Json j = Json::object();
    j["type"] = c.type;
    j["status"] = c.status;
    if (!c.reason.empty()) j["reason"] = c.reason;
    if (!c.message.empty()) j["message"] = c.message;
    if (!c.last_update_time.empty()) j["lastUpdateTime"] = c.last_update_time;
    if (!c.last_transition_time.empty()) j["lastTransitionTime"] = c.last_transition_time;
    conditions.push_back(std::move(j));
  }
  if (!s.conditions.empty() || obj.contains("conditions")) {
    if (obj["conditions"] != conditions) obj["conditions"] = std::move(conditions);
  }
  if (!s.replica_statuses.empty() || obj.contains("replicaStatuses")) {
    Json statuses = Json::object();
    for (const auto& [type, rs] : s.replica_statuses) {
      Json j = Json::object();
      if (rs.active) j["active"] = rs.active;
      if (rs.succeeded) j["succeeded"] = rs.succeeded;
      if (rs.failed) j["failed"] = rs.failed;
      if (rs.selector) j["selector"] = *rs.selector;
      statuses[type] = std::move(j);
    }
    if (obj["replicaStatuses"] != statuses) obj["replicaStatuses"] = std::move(statuses);
  }
  Put(obj, "startTime", s.start_time);
  Put(obj, "completionTime", s.completion_time);
  Put(obj, "lastReconcileTime", s.last_reconcile_time);
}

absl::Status TypeErrorsStatus(const FieldErrors& errors) {
  std::vector<std::string> parts;
  for (const auto& e : errors) parts.push_back(e.ToString());
  return absl::InvalidArgumentError(absl::StrJoin(parts, ", "));
}

}  // namespace

const Replica* Job::FindReplica(std::string_view type) const {
  for (const auto& r : spec.replica_specs) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

Replica* Job::FindReplica(std::string_view type) {
  return const_cast<Replica*>(std::as_const(*this).FindReplica(type));
}

RunPolicy EffectiveRunPolicy(const JobSpec& spec) {
  RunPolicy p = spec.run_policy.value_or(RunPolicy{});
  const RunPolicy& legacy = spec.legacy_run_policy;
  if (!p.clean_pod_policy) p.clean_pod_policy = legacy.clean_pod_policy;
  if (!p.ttl_seconds_after_finished) p.ttl_seconds_after_finished = legacy.ttl_seconds_after_finished;
  if (!p.active_deadline_seconds) p.active_deadline_seconds = legacy.active_deadline_seconds;
  if (!p.backoff_limit) p.backoff_limit = legacy.backoff_limit;
  if (!p.suspend) p.suspend = legacy.suspend;
  if (!p.scheduling_policy) p.scheduling_policy = legacy.scheduling_policy;
  return p;
}

absl::StatusOr<Job> ParseJob(const Json& object, FieldErrors* type_errors) {
  if (!object.is_object()) return absl::InvalidArgumentError("a job must be a JSON object");
  return ParseJob(Json(object), type_errors);
}

absl::StatusOr<Job> ParseJob(Json&& moved_object, FieldErrors* type_errors) {
  if (!moved_object.is_object()) {
    return absl::InvalidArgumentError("a job must be a JSON object");
  }
  std::string api_version = moved_object.value("apiVersion", Json("")).is_string()
                                ? moved_object.value("apiVersion", std::string())
                                : std::string();
  std::string kind_name = moved_object.value("kind", Json("")).is_string()
                              ? moved_object.value("kind", std::string())
                              : std::string();
  const KindDescriptor* kind = FindKind(api_version, kind_name);
  if (kind == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("apiVersion \"", api_version, "\" kind \"",
                                                   kind_name, "\" is not a KubeDL job kind"));
  }
  FieldErrors errors;
  FieldReader r(&errors);
  Job job;
  job.kind = kind->kind;
  job.raw = std::move(moved_object);
  // Every typed field below is read from the raw object the job now owns.
  const Json& object = job.raw;
  if (const Json* meta = r.Object(object, "metadata", "")) {
    job.name = r.String(*meta, "name", "metadata").value_or("");
    job.namespace_ = r.String(*meta, "namespace", "metadata").value_or("");
    job.uid = r.String(*meta, "uid", "metadata").value_or("");
    if (const Json* ann = r.Object(*meta, "annotations", "metadata")) {
      for (auto it = ann->begin(); it != ann->end(); ++it) {
        if (it->is_string()) {
          job.annotations[it.key()] = it->get<std::string>();
        } else {
          r.TypeError("metadata.annotations", it.key(), *it, "must be of type string");
        }
      }
    }
  }
  if (const Json* spec = r.Object(object, "spec", "")) {
    JobSpec& s = job.spec;
    std::string map_key(kind->replica_specs_key);
    std::string map_path = "spec." + map_key;
    if (const Json* map = r.Object(*spec, map_key, "spec")) {
      s.has_replica_specs = true;
      for (auto it = map->begin(); it != map->end(); ++it) {
        std::string path = absl::StrCat(map_path, "[", it.key(), "]");
        Replica replica{it.key(), {}};
        if (!it->is_object()) {
          if (!it->is_null()) r.TypeError(map_path, absl::StrCat("[", it.key(), "]"), *it,
                                          "must be of type object");
          s.replica_specs.push_back(std::move(replica));
          continue;
        }
        replica.spec.replicas = r.Int(*it, "replicas", path);
        replica.spec.restart_policy = r.String(*it, "restartPolicy", path);
        // The template moves out of the raw object instead of being copied: templates are most
        // of a job's bytes, and ToJson writes it back.
        if (r.Object(*it, "template", path) != nullptr) {
          replica.spec.template_spec = std::move(const_cast<Json&>(*it)["template"]);
        }
        s.replica_specs.push_back(std::move(replica));
      }
    }
    internal::ReadVisitor(r, *spec, "spec")("runPolicy", s.run_policy);
    internal::ReadFields(r, *spec, "spec", s.legacy_run_policy);
    if (kind->hooks != nullptr && kind->hooks->read_spec != nullptr) {
      kind->hooks->read_spec(r, *spec, s);
    }
  }
  if (const Json* status = r.Object(object, "status", "")) job.status = ReadStatus(r, *status);
  if (!errors.empty()) {
    absl::Status status = TypeErrorsStatus(errors);
    if (type_errors != nullptr) *type_errors = std::move(errors);
    return status;
  }
  return job;
}

namespace {

// `out` is the job's raw object (or an empty object): typed fields are written over it. With
// `movable` (the same job, an rvalue) the pod templates move into `out` instead of being copied,
// and only once every key is in place: Json objects are vectors, and a vector that grows copies
// its elements, templates and all, instead of moving them (its pairs' keys are const).
Json WriteJobOver(Json out, const Job& job, Job* movable) {
  const KindDescriptor& kind = job.descriptor();
  if (!out.contains("apiVersion")) out["apiVersion"] = kind.api_version;
  if (!out.contains("kind")) out["kind"] = kind.name;
  if (!out.contains("metadata") && !job.name.empty()) {
    out["metadata"] = {{"name", job.name}, {"namespace", job.namespace_}};
  }
  Json& spec = ObjectAt(out, "spec");
  const JobSpec& s = job.spec;
  std::string map_key(kind.replica_specs_key);
  const bool write_map = s.has_replica_specs || !s.replica_specs.empty();
  if (write_map) {
    // Entries move from the old map into the new one: the map is rebuilt, never copied.
    Json old_map = Json::object();
    if (auto it = spec.find(map_key); it != spec.end()) old_map = std::move(*it);
    Json map = Json::object();
    for (const Replica& replica : s.replica_specs) {
      const Json* old = FindEntry(old_map, replica.type);
      Json entry = old != nullptr && old->is_object() ? std::move(const_cast<Json&>(*old))
                                                      : Json::object();
      Put(entry, "replicas", replica.spec.replicas);
      Put(entry, "restartPolicy", replica.spec.restart_policy);
      if (movable != nullptr) {
        entry["template"] = nullptr;  // its place, filled last
      } else if (!entry.contains("template") || entry["template"] != replica.spec.template_spec) {
        entry["template"] = replica.spec.template_spec;
      }
      map[replica.type] = std::move(entry);
    }
    spec[map_key] = std::move(map);
  }
  internal::WriteVisitor{spec}("runPolicy", s.run_policy);
  internal::WriteFields(spec, s.legacy_run_policy);
  if (kind.hooks != nullptr && kind.hooks->write_spec != nullptr) kind.hooks->write_spec(spec, s);
  if (out.contains("status") || job.status != JobStatus{}) {
    WriteStatus(ObjectAt(out, "status"), job.status);
  }
  if (write_map && movable != nullptr) {
    Json& map = out["spec"][map_key];
    for (Replica& replica : movable->spec.replica_specs) {
      map[replica.type]["template"] = std::move(replica.spec.template_spec);
    }
  }
  return out;
}

}  // namespace

Json ToJson(const Job& job) {
  return WriteJobOver(job.raw.is_object() ? job.raw : Json::object(), job, nullptr);
}

Json ToJson(Job&& job) {
  Json raw = Json::object();
  if (job.raw.is_object()) raw = std::move(job.raw);
  return WriteJobOver(std::move(raw), job, &job);
}

Json ToJson(const JobStatus& status) {
  Json out = Json::object();
  WriteStatus(out, status);
  return out;
}

absl::StatusOr<JobStatus> ParseJobStatus(const Json& status) {
  FieldErrors errors;
  FieldReader r(&errors);
  JobStatus s = ReadStatus(r, status);
  if (!errors.empty()) return TypeErrorsStatus(errors);
  return s;
}

}  // namespace kubedl::api
