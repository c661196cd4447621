#pragma once

#include <string>

#include "absl/time/time.h"
#include "kubedl/v1/metrics.pb.h"

// Builders of the job events of metrics.proto, so callers fill every field the service needs.
// `created` is always the job's metadata.creationTimestamp; every other time comes from the API
// objects too (docs/metrics.md says which).
namespace kubedl::metrics {

v1::JobKey MakeJobKey(std::string uid, std::string kind, std::string ns, std::string name);

// `time` is the job's creationTimestamp.
v1::JobEvent JobCreatedEvent(const v1::JobKey& job, absl::Time created);
// `ready` is the Ready transition time of the job's first Ready pod.
v1::JobEvent PodReadyEvent(const v1::JobKey& job, absl::Time created, absl::Time ready,
                           std::string pod_name);
// `last_ready` is the latest Ready transition among the pods, once all of them run.
v1::JobEvent AllPodsRunningEvent(const v1::JobKey& job, absl::Time created, absl::Time last_ready,
                                 int pods);
// `transition` is the condition's lastTransitionTime; `start` is status.startTime, or
// absl::InfinitePast() when the job never started.
v1::JobEvent ConditionChangedEvent(const v1::JobKey& job, absl::Time created,
                                   absl::Time transition, std::string type, std::string status,
                                   std::string reason, absl::Time start = absl::InfinitePast());
v1::JobEvent PodExitedEvent(const v1::JobKey& job, absl::Time created, absl::Time finished,
                            std::string pod_name, std::string pod_uid, int exit_code);
// `deleted` is the deletionTimestamp, or when the reconciler saw the job gone.
v1::JobEvent JobDeletedEvent(const v1::JobKey& job, absl::Time created, absl::Time deleted);

v1::LiveJob MakeLiveJob(const v1::JobKey& job, std::string state);

}  // namespace kubedl::metrics
