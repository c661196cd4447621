#pragma once
// The job kinds and what differs between them, as one descriptor table: one entry per kind,
// each defined in lib/api/src/kinds/<kind>.cc (docs/adding-a-kind.md).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kubedl::api {

// The index of a kind in AllKinds().
enum class JobKind { kTFJob, kPyTorchJob, kXGBoostJob, kXDLJob, kMPIJob, kPaddleJob, kJAXJob };

// What the kind adds to the common codec, defaulting and validation (private to lib/api:
// src/kinds/kind_hooks.h).
struct KindHooks;

struct KindDescriptor {
  JobKind kind;
  std::string_view name;               // "TFJob"
  std::string_view group;              // "kubeflow.org"
  std::string_view version;            // "v1"
  std::string_view api_version;        // "kubeflow.org/v1"
  std::string_view plural;             // "tfjobs"
  std::string_view short_name;         // "tfjob"
  std::string_view replica_specs_key;  // "tfReplicaSpecs"
  // Allowed replica types in canonical case, in reconcile order (SPEC §5).
  std::span<const std::string_view> replica_types;
  // Name of the framework container; `accepted_container_names` also holds legacy spellings
  // (XGBoost: "xgboostjob"). The first accepted name is the canonical one.
  std::string_view container_name;
  std::span<const std::string_view> accepted_container_names;
  std::string_view port_name;  // "tfjob-port"
  int32_t port;                // 2222
  std::string_view default_restart_policy;
  std::string_view default_clean_pod_policy;
  const KindHooks* hooks = nullptr;
  // Replica types of at most one pod, named "<job>-<lower type>" without an index (MPI's
  // Launcher); every other replica's objects are "<job>-<lower type>-<index>".
  std::span<const std::string_view> unindexed_replica_types = {};
};

// All kinds, in the order above.
std::span<const KindDescriptor> AllKinds();
const KindDescriptor& Describe(JobKind kind);
// By "group/version" and Kind as sent in an object; nullptr when not ours.
const KindDescriptor* FindKind(std::string_view api_version, std::string_view kind);
// By Kind name, case-insensitively ("tfjob", "TFJob"); nullptr when unknown.
const KindDescriptor* FindKindByName(std::string_view kind);
// The canonical spelling of a replica type of `kind` ("worker" -> "Worker"), or empty.
std::string_view CanonicalReplicaType(const KindDescriptor& kind, std::string_view type);


// "<job>-<lower type>-<index>" ("<job>-<lower type>" for the kind's unindexed replica types):
// the name of a replica's pod and of its headless service. The service name must be a DNS-1035
// label (at most 63 characters), which validation checks for the highest index before anything
// is created.
std::string ReplicaObjectName(const KindDescriptor& kind, std::string_view job,
                              std::string_view replica_type, int64_t index);

}  // namespace kubedl::api
