#pragma once
// The job kinds as C++ types (SPEC §1). One `Job` type serves every kind: the kind-specific
// fields are optional and only read for their kind. Pod templates stay JSON, exactly as written.
//
//   ASSIGN_OR_RETURN(Job job, ParseJob(object));   // job_codec.h
//   DefaultJob(job);                                 // defaults.h
//   FieldErrors errors = ValidateJob(job, nullptr);  // validation.h
//   Json written = ToJson(job);                      // only the changed fields differ
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kubedl/api/json.h"
#include "kubedl/api/kind.h"

namespace kubedl::api {

// Numbers are held as int64 whatever their API width, so an out-of-range value reaches
// validation (and its message) instead of wrapping.
struct SchedulingPolicy {
  std::optional<int64_t> min_available;
  std::optional<std::string> queue;
  std::optional<Json> min_resources;  // map of resource name -> quantity, as written
  std::optional<std::string> priority_class;
  std::optional<int64_t> schedule_timeout_seconds;

  bool operator==(const SchedulingPolicy&) const = default;
};

struct RunPolicy {
  std::optional<std::string> clean_pod_policy;  // All | Running | None
  std::optional<int64_t> ttl_seconds_after_finished;
  std::optional<int64_t> active_deadline_seconds;
  std::optional<int64_t> backoff_limit;
  std::optional<bool> suspend;
  std::optional<SchedulingPolicy> scheduling_policy;

  bool empty() const { return *this == RunPolicy{}; }
  bool operator==(const RunPolicy&) const = default;
};

struct ReplicaSpec {
  std::optional<int64_t> replicas;
  Json template_spec = Json::object();  // the PodTemplateSpec ("template"), as written
  std::optional<std::string> restart_policy;  // Always | OnFailure | Never | ExitCode
};

// One entry of the replica map. `type` is as written until DefaultJob() canonicalizes it.
struct Replica {
  std::string type;
  ReplicaSpec spec;
};

struct RdzvConf {
  std::string key;
  std::string value;
  bool operator==(const RdzvConf&) const = default;
};

// spec.elasticPolicy of PyTorchJob and PaddleJob. PaddleJob's has only min/maxReplicas,
// maxRestarts and metrics; the rdzv keys, standalone and nProcPerNode are PyTorch's.
struct ElasticPolicy {
  std::optional<int64_t> min_replicas;
  std::optional<int64_t> max_replicas;
  std::optional<std::string> rdzv_backend;  // c10d | etcd | etcd-v2
  std::optional<int64_t> rdzv_port;
  std::optional<std::string> rdzv_host;
  std::optional<std::string> rdzv_id;
  std::vector<RdzvConf> rdzv_conf;
  std::optional<bool> standalone;
  // Deprecated twin of spec.nprocPerNode, kept as written and otherwise unused.
  std::optional<int64_t> n_proc_per_node;
  std::optional<int64_t> max_restarts;
  std::optional<RawJson> metrics;  // a list of autoscaling/v2 MetricSpec objects
};

struct JobSpec {
  std::vector<Replica> replica_specs;  // in the order written
  bool has_replica_specs = false;      // the map key was present
  std::optional<RunPolicy> run_policy;
  // Run-policy keys found directly under `spec` (older operators' layout, SPEC §1 Decision).
  // DefaultJob() moves them into run_policy; EffectiveRunPolicy() reads both.
  RunPolicy legacy_run_policy;
  // TFJob
  std::optional<std::string> success_policy;  // "" | AllWorkers
  std::optional<bool> enable_dynamic_worker;
  // PyTorchJob
  std::optional<std::string> nproc_per_node;  // auto | cpu | gpu | integer
  // PyTorchJob and PaddleJob
  std::optional<ElasticPolicy> elastic_policy;
  // XDLJob
  std::optional<int64_t> min_finish_work_num;
  std::optional<int64_t> min_finish_work_rate;  // percent
  // MPIJob
  std::optional<int64_t> slots_per_worker;     // absent means 1, and stays absent
  std::optional<std::string> main_container;  // the framework container; absent: the first
};

struct JobCondition {
  std::string type;    // Created | Running | Restarting | Succeeded | Failed | Suspended
  std::string status;  // True | False | Unknown
  std::string reason;
  std::string message;
  std::string last_update_time;      // RFC 3339
  std::string last_transition_time;  // RFC 3339
  bool operator==(const JobCondition&) const = default;
};

struct ReplicaStatus {
  int64_t active = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::optional<std::string> selector;
  bool operator==(const ReplicaStatus&) const = default;
};

struct JobStatus {
  std::vector<JobCondition> conditions;
  std::map<std::string, ReplicaStatus> replica_statuses;  // canonical type -> counts
  std::optional<std::string> start_time;
  std::optional<std::string> completion_time;
  std::optional<std::string> last_reconcile_time;
  bool operator==(const JobStatus&) const = default;
};

struct Job {
  JobKind kind = JobKind::kTFJob;
  std::string name;
  std::string namespace_;
  std::string uid;
  std::map<std::string, std::string> annotations;
  JobSpec spec;
  JobStatus status;
  // The object as parsed. ToJson() writes the typed fields over it, so fields this type does
  // not model (metadata, unknown spec keys) survive unchanged and in place.
  Json raw = Json::object();

  const KindDescriptor& descriptor() const { return Describe(kind); }
  // The entry of a replica type (canonical case), or nullptr.
  const Replica* FindReplica(std::string_view type) const;
  Replica* FindReplica(std::string_view type);
};

// The run policy in force: spec.runPolicy's values, each missing one taken from the legacy
// flat keys. What the reconciler reads when the webhook did not run.
RunPolicy EffectiveRunPolicy(const JobSpec& spec);

}  // namespace kubedl::api
