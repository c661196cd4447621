#include "core/framework.h"
#include "frameworks/tensorflow/tensorflow_framework.h"

namespace kubedl::reconciler {

const Framework& FrameworkFor(api::JobKind kind) {
  static const TensorFlowFramework tensorflow;
  switch (kind) {
    case api::JobKind::kTFJob:
      return tensorflow;
    default:
      break;
  }
  return tensorflow;
}

}  // namespace kubedl::reconciler
