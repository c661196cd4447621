#include "core/framework.h"
#include "frameworks/pytorch/pytorch_framework.h"
#include "frameworks/tensorflow/tensorflow_framework.h"
#include "frameworks/xdl/xdl_framework.h"
#include "frameworks/xgboost/xgboost_framework.h"

namespace kubedl::reconciler {

const Framework& FrameworkFor(api::JobKind kind) {
  static const TensorFlowFramework tensorflow;
  static const PyTorchFramework pytorch;
  static const XGBoostFramework xgboost;
  static const XDLFramework xdl;
  switch (kind) {
    case api::JobKind::kTFJob:
      return tensorflow;
    case api::JobKind::kPyTorchJob:
      return pytorch;
    case api::JobKind::kXGBoostJob:
      return xgboost;
    case api::JobKind::kXDLJob:
      return xdl;
  }
  return tensorflow;  // unreachable: every JobKind is listed above
}

}  // namespace kubedl::reconciler
