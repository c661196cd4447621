#pragma once
// A job the SPEC §3 checks refuse (created while the webhook was down, or admitted by
// failurePolicy Ignore) fails once, with reason <Kind>FailedValidation and every problem's field path, and
// gets no pods; nothing else is done for it (no clean-up or TTL read from a spec that is wrong).
// It is not requeued: an edit of the job brings it back.
#include <string>

#include "core/reconciler_deps.h"
#include "core/written_state.h"
#include "kubedl/api/field_error.h"
#include "kubedl/kube/work_queue.h"

namespace kubedl::reconciler {

kube::ReconcileResult RefuseInvalidJob(const ReconcilerDeps& deps, WrittenState& written_state,
                                       const std::string& key, api::JobKind kind,
                                       const kube::Object& object,
                                       const api::FieldErrors& errors);

}  // namespace kubedl::reconciler
