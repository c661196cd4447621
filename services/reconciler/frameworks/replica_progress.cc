#include "frameworks/replica_progress.h"

namespace kubedl::reconciler {

const ReplicaState* FindState(const ReplicaStates& states, std::string_view type) {
  auto it = states.find(type);
  return it == states.end() ? nullptr : &it->second;
}

bool AllSucceeded(const ReplicaState& state) {
  return state.replicas > 0 && state.succeeded >= state.replicas;
}

JobProgress LeaderProgress(const ReplicaStates& states, std::string_view leader) {
  const ReplicaState* s = FindState(states, leader);
  if (s == nullptr) return JobProgress::kNotRunning;
  if (AllSucceeded(*s)) return JobProgress::kSucceeded;
  return s->active > 0 ? JobProgress::kRunning : JobProgress::kNotRunning;
}

}  // namespace kubedl::reconciler
