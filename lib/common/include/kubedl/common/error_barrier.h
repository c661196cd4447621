#pragma once
// The error barrier of a request handler: whatever the handler throws (a library's exception on
// input it did not expect, a bug of ours) becomes an Internal status for that one request, never
// the end of the process.
//
//   reactor->Finish(ToGrpcStatus(common::StatusOfCall([&] { return Handle(*request); })));
#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"

namespace kubedl::common {

// `work` returns absl::Status or absl::StatusOr<T>; so does this.
template <class F>
auto StatusOfCall(F&& work) noexcept -> decltype(std::forward<F>(work)()) {
  using Result = decltype(std::forward<F>(work)());
  try {
    return std::forward<F>(work)();
  } catch (const std::exception& e) {
    return Result(absl::InternalError(std::string("unexpected error: ") + e.what()));
  } catch (...) {
    return Result(absl::InternalError("unexpected error"));
  }
}

}  // namespace kubedl::common
