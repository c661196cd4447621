#pragma once
// Private to lib/api/src/kinds: spec.elasticPolicy, shared by PyTorchJob and PaddleJob (one
// struct, job.h's ElasticPolicy): the codec's one field list, and the defaults and checks both
// kinds apply. PaddleJob's policy has only min/maxReplicas, maxRestarts and metrics; PyTorch
// validates its rdzv keys itself. The field list is in the header because every translation unit
// that reads or writes the struct must see the same specialization.
#include "codec_fields.h"
#include "kinds/kind_hooks.h"
#include "kubedl/api/job.h"

namespace kubedl::api {

// In the JSON order of the Kubeflow type, so keys we add land where kubectl would show them.
template <>
struct internal::JsonFields<ElasticPolicy> {
  template <class V, class S>
  static void Visit(V&& v, S& p) {
    v("minReplicas", p.min_replicas), v("maxReplicas", p.max_replicas),
        v("rdzvBackend", p.rdzv_backend), v("rdzvPort", p.rdzv_port), v("rdzvHost", p.rdzv_host),
        v("rdzvId", p.rdzv_id), v("rdzvConf", p.rdzv_conf), v("standalone", p.standalone),
        v("nProcPerNode", p.n_proc_per_node), v("maxRestarts", p.max_restarts),
        v("metrics", p.metrics);
  }
};

template <>
struct internal::JsonFields<RdzvConf> {
  template <class V, class S>
  static void Visit(V&& v, S& c) {
    v("key", c.key), v("value", c.value);
  }
};

namespace kinds {

// A missing min or max copies the other; both missing: the Worker replicas (when a Worker
// exists: without one, validation refuses the policy).
void DefaultElasticBounds(Job& job);

// minReplicas >= 1, maxReplicas >= minReplicas, maxRestarts >= 0, metrics a list of objects.
void ValidateElasticBounds(internal::KindValidation& v, const ElasticPolicy& policy);

}  // namespace kinds
}  // namespace kubedl::api
