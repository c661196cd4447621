#pragma once
// Turns what a reconcile observed into metrics events (SPEC §7) with the API objects' own
// timestamps. Sending is best effort and never blocks: the sink buffers. The metrics service
// deduplicates, so re-sending after a restart is safe; this class only avoids needless repeats.
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "kubedl/api/job.h"
#include "kubedl/kube/object.h"
#include "kubedl/metrics/job_event_sink.h"

namespace kubedl::reconciler {

class JobEventEmitter {
 public:
  explicit JobEventEmitter(metrics::JobEventSink& sink);

  void JobCreated(const kube::Object& job);
  void ConditionChanged(const kube::Object& job, const api::JobCondition& condition,
                        const std::optional<std::string>& start_time);
  // The earliest Ready pod, and all pods Running when `desired` of them are.
  void PodsObserved(const kube::Object& job, const std::vector<kube::Object>& pods,
                    int64_t desired);
  void PodExited(const kube::Object& job, const kube::Object& pod, int32_t exit_code);
  void JobDeleted(const kube::Object& job);

 private:
  // Sends once per (job uid, tag) for this process.
  bool FirstTime(const std::string& uid, const std::string& tag);

  metrics::JobEventSink& sink_;
  absl::Mutex mu_;
  // job uid -> tags sent; dropped when the job is deleted, so it is bounded by live jobs.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> sent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::reconciler
