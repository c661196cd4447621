#pragma once
// Progress rules several frameworks share.
#include <string_view>

#include "core/framework.h"

namespace kubedl::reconciler {

const ReplicaState* FindState(const ReplicaStates& states, std::string_view type);
bool AllSucceeded(const ReplicaState& state);
// The job follows one leading replica type: Succeeded when all its replicas succeeded,
// Running while one of them runs.
JobProgress LeaderProgress(const ReplicaStates& states, std::string_view leader);

}  // namespace kubedl::reconciler
