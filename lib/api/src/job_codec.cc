#include "kubedl/api/job_codec.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kubedl::api {
namespace {

std::string Join(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : absl::StrCat(parent, ".", std::string(key));
}

// Reads typed fields of one object, recording a FieldError for each wrongly-typed one.
class Reader {
 public:
  explicit Reader(FieldErrors* errors) : errors_(errors) {}

  const Json* Get(const Json& obj, std::string_view key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(std::string(key));
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<int64_t> Int(const Json& obj, std::string_view key, const std::string& path) {
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

  std::optional<std::string> String(const Json& obj, std::string_view key,
                                    const std::string& path) {
    const Json* v = Get(obj, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    TypeError(path, key, *v, "must be of type string");
    return std::nullopt;
  }

  std::optional<bool> Bool(const Json& obj, std::string_view key, const std::string& path) {
    const Json* v = Get(obj, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_boolean()) return v->get<bool>();
    TypeError(path, key, *v, "must be of type boolean");
    return std::nullopt;
  }

  const Json* Object(const Json& obj, std::string_view key, const std::string& path) {
    const Json* v = Get(obj, key);
    if (v == nullptr) return nullptr;
    if (v->is_object()) return v;
    TypeError(path, key, *v, "must be of type object");
    return nullptr;
  }

  const Json* Array(const Json& obj, std::string_view key, const std::string& path) {
    const Json* v = Get(obj, key);
    if (v == nullptr) return nullptr;
    if (v->is_array()) return v;
    TypeError(path, key, *v, "must be of type array");
    return nullptr;
  }

  void TypeError(const std::string& path, std::string_view key, const Json& v,
                 std::string what) {
    errors_->push_back(Invalid(Join(path, key), v, std::move(what)));
  }

 private:
  FieldErrors* errors_;
};

SchedulingPolicy ReadSchedulingPolicy(Reader& r, const Json& obj, const std::string& path) {
  SchedulingPolicy p;
  p.min_available = r.Int(obj, "minAvailable", path);
  p.queue = r.String(obj, "queue", path);
  if (const Json* res = r.Object(obj, "minResources", path)) p.min_resources = *res;
  p.priority_class = r.String(obj, "priorityClass", path);
  p.schedule_timeout_seconds = r.Int(obj, "scheduleTimeoutSeconds", path);
  return p;
}

RunPolicy ReadRunPolicy(Reader& r, const Json& obj, const std::string& path) {
  RunPolicy p;
  p.clean_pod_policy = r.String(obj, "cleanPodPolicy", path);
  p.ttl_seconds_after_finished = r.Int(obj, "ttlSecondsAfterFinished", path);
  p.active_deadline_seconds = r.Int(obj, "activeDeadlineSeconds", path);
  p.backoff_limit = r.Int(obj, "backoffLimit", path);
  p.suspend = r.Bool(obj, "suspend", path);
  std::string sp_path = Join(path, "schedulingPolicy");
  if (const Json* sp = r.Object(obj, "schedulingPolicy", path)) {
    p.scheduling_policy = ReadSchedulingPolicy(r, *sp, sp_path);
  }
  return p;
}

ElasticPolicy ReadElasticPolicy(Reader& r, const Json& obj, const std::string& path) {
  ElasticPolicy p;
  p.min_replicas = r.Int(obj, "minReplicas", path);
  p.max_replicas = r.Int(obj, "maxReplicas", path);
  p.rdzv_backend = r.String(obj, "rdzvBackend", path);
  p.rdzv_port = r.Int(obj, "rdzvPort", path);
  p.rdzv_host = r.String(obj, "rdzvHost", path);
  p.rdzv_id = r.String(obj, "rdzvId", path);
  if (const Json* conf = r.Array(obj, "rdzvConf", path)) {
    for (size_t i = 0; i < conf->size(); ++i) {
      std::string item_path = absl::StrCat(path, ".rdzvConf[", i, "]");
      const Json& item = (*conf)[i];
      if (!item.is_object()) {
        r.TypeError(absl::StrCat(path, ".rdzvConf"), absl::StrCat("[", i, "]"), item,
                    "must be of type object");
        continue;
      }
      p.rdzv_conf.push_back({r.String(item, "key", item_path).value_or(""),
                             r.String(item, "value", item_path).value_or("")});
    }
  }
  p.standalone = r.Bool(obj, "standalone", path);
  p.max_restarts = r.Int(obj, "maxRestarts", path);
  return p;
}

// Writes `value` at `key` unless the same value is already there (so numbers keep the exact
// representation they were parsed with); nullopt removes the key.
template <class T>
void Put(Json& obj, const char* key, const std::optional<T>& value) {
  if (!value) {
    obj.erase(key);
    return;
  }
  Json v = *value;
  auto it = obj.find(key);
  if (it == obj.end() || *it != v) obj[key] = std::move(v);
}

Json& ObjectAt(Json& obj, const char* key) {
  Json& v = obj[key];
  if (!v.is_object()) v = Json::object();
  return v;
}

void WriteSchedulingPolicy(Json& obj, const SchedulingPolicy& p) {
  Put(obj, "minAvailable", p.min_available);
  Put(obj, "queue", p.queue);
  Put(obj, "minResources", p.min_resources);
  Put(obj, "priorityClass", p.priority_class);
  Put(obj, "scheduleTimeoutSeconds", p.schedule_timeout_seconds);
}

void WriteRunPolicyFields(Json& obj, const RunPolicy& p) {
  Put(obj, "cleanPodPolicy", p.clean_pod_policy);
  Put(obj, "ttlSecondsAfterFinished", p.ttl_seconds_after_finished);
  Put(obj, "activeDeadlineSeconds", p.active_deadline_seconds);
  Put(obj, "backoffLimit", p.backoff_limit);
  Put(obj, "suspend", p.suspend);
  if (p.scheduling_policy) {
    WriteSchedulingPolicy(ObjectAt(obj, "schedulingPolicy"), *p.scheduling_policy);
  } else {
    obj.erase("schedulingPolicy");
  }
}

void WriteElasticPolicy(Json& obj, const ElasticPolicy& p) {
  Put(obj, "minReplicas", p.min_replicas);
  Put(obj, "maxReplicas", p.max_replicas);
  Put(obj, "rdzvBackend", p.rdzv_backend);
  Put(obj, "rdzvPort", p.rdzv_port);
  Put(obj, "rdzvHost", p.rdzv_host);
  Put(obj, "rdzvId", p.rdzv_id);
  if (!p.rdzv_conf.empty() || obj.contains("rdzvConf")) {
    Json conf = Json::array();
    for (const auto& c : p.rdzv_conf) conf.push_back({{"key", c.key}, {"value", c.value}});
    if (!obj.contains("rdzvConf") || obj["rdzvConf"] != conf) obj["rdzvConf"] = conf;
  }
  Put(obj, "standalone", p.standalone);
  Put(obj, "maxRestarts", p.max_restarts);
}

const Json* FindEntry(const Json& map, const std::string& type) {
  if (!map.is_object()) return nullptr;
  if (auto it = map.find(type); it != map.end()) return &*it;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (absl::EqualsIgnoreCase(it.key(), type)) return &*it;
  }
  return nullptr;
}

JobStatus ReadStatus(Reader& r, const Json& obj) {
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
  Reader r(&errors);
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
        if (const Json* t = r.Object(*it, "template", path)) replica.spec.template_spec = *t;
        s.replica_specs.push_back(std::move(replica));
      }
    }
    if (const Json* rp = r.Object(*spec, "runPolicy", "spec")) {
      s.run_policy = ReadRunPolicy(r, *rp, "spec.runPolicy");
    }
    s.legacy_run_policy = ReadRunPolicy(r, *spec, "spec");
    switch (kind->kind) {
      case JobKind::kTFJob:
        s.success_policy = r.String(*spec, "successPolicy", "spec");
        s.enable_dynamic_worker = r.Bool(*spec, "enableDynamicWorker", "spec");
        break;
      case JobKind::kPyTorchJob:
        s.nproc_per_node = r.String(*spec, "nprocPerNode", "spec");
        if (const Json* ep = r.Object(*spec, "elasticPolicy", "spec")) {
          s.elastic_policy = ReadElasticPolicy(r, *ep, "spec.elasticPolicy");
        }
        break;
      case JobKind::kXDLJob:
        s.min_finish_work_num = r.Int(*spec, "minFinishWorkNum", "spec");
        s.min_finish_work_rate = r.Int(*spec, "minFinishWorkRate", "spec");
        break;
      case JobKind::kXGBoostJob:
        break;
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

// `out` is the job's raw object (or an empty object): typed fields are written over it.
Json WriteJobOver(Json out, const Job& job) {
  const KindDescriptor& kind = job.descriptor();
  if (!out.contains("apiVersion")) out["apiVersion"] = kind.api_version;
  if (!out.contains("kind")) out["kind"] = kind.name;
  if (!out.contains("metadata") && !job.name.empty()) {
    out["metadata"] = {{"name", job.name}, {"namespace", job.namespace_}};
  }
  Json& spec = ObjectAt(out, "spec");
  const JobSpec& s = job.spec;
  std::string map_key(kind.replica_specs_key);
  if (s.has_replica_specs || !s.replica_specs.empty()) {
    const Json old_map = spec.contains(map_key) ? spec[map_key] : Json::object();
    Json map = Json::object();
    for (const Replica& replica : s.replica_specs) {
      const Json* old = FindEntry(old_map, replica.type);
      Json entry = old != nullptr && old->is_object() ? *old : Json::object();
      Put(entry, "replicas", replica.spec.replicas);
      Put(entry, "restartPolicy", replica.spec.restart_policy);
      if (!entry.contains("template") || entry["template"] != replica.spec.template_spec) {
        entry["template"] = replica.spec.template_spec;
      }
      map[replica.type] = std::move(entry);
    }
    if (!spec.contains(map_key) || spec[map_key] != map) spec[map_key] = std::move(map);
  }
  if (s.run_policy) {
    WriteRunPolicyFields(ObjectAt(spec, "runPolicy"), *s.run_policy);
  } else {
    spec.erase("runPolicy");
  }
  WriteRunPolicyFields(spec, s.legacy_run_policy);
  switch (kind.kind) {
    case JobKind::kTFJob:
      Put(spec, "successPolicy", s.success_policy);
      Put(spec, "enableDynamicWorker", s.enable_dynamic_worker);
      break;
    case JobKind::kPyTorchJob:
      Put(spec, "nprocPerNode", s.nproc_per_node);
      if (s.elastic_policy) {
        WriteElasticPolicy(ObjectAt(spec, "elasticPolicy"), *s.elastic_policy);
      } else {
        spec.erase("elasticPolicy");
      }
      break;
    case JobKind::kXDLJob:
      Put(spec, "minFinishWorkNum", s.min_finish_work_num);
      Put(spec, "minFinishWorkRate", s.min_finish_work_rate);
      break;
    case JobKind::kXGBoostJob:
      break;
  }
  if (out.contains("status") || job.status != JobStatus{}) {
    WriteStatus(ObjectAt(out, "status"), job.status);
  }
  return out;
}

}  // namespace

Json ToJson(const Job& job) {
  return WriteJobOver(job.raw.is_object() ? job.raw : Json::object(), job);
}

Json ToJson(Job&& job) {
  Json raw = job.raw.is_object() ? std::move(job.raw) : Json::object();
  return WriteJobOver(std::move(raw), job);
}

Json ToJson(const JobStatus& status) {
  Json out = Json::object();
  WriteStatus(out, status);
  return out;
}

absl::StatusOr<JobStatus> ParseJobStatus(const Json& status) {
  FieldErrors errors;
  Reader r(&errors);
  JobStatus s = ReadStatus(r, status);
  if (!errors.empty()) return TypeErrorsStatus(errors);
  return s;
}

}  // namespace kubedl::api
