#pragma once

// Debian's abseil ships status.h and statusor.h but not status_macros.h; these are the two
// macros every module boundary needs.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KUBEDL_STATUS_CONCAT_INNER(a, b) a##b
#define KUBEDL_STATUS_CONCAT(a, b) KUBEDL_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    const ::absl::Status kubedl_status_ = (expr);  \
    if (!kubedl_status_.ok()) return kubedl_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` declares x from an OK StatusOr, else returns its status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  KUBEDL_ASSIGN_OR_RETURN_IMPL(KUBEDL_STATUS_CONCAT(kubedl_statusor_, __LINE__), lhs, expr)

#define KUBEDL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()
