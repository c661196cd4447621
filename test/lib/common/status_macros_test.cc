#include "kubedl/common/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace {

absl::StatusOr<std::unique_ptr<int>> MakeInt(bool ok) {
  if (!ok) return absl::UnavailableError("try later");
  return std::make_unique<int>(7);
}

absl::StatusOr<int> DoubledOrError(bool ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> value, MakeInt(ok));
  return *value * 2;
}

absl::Status FailsWhen(bool fail) {
  RETURN_IF_ERROR(fail ? absl::AbortedError("conflict") : absl::OkStatus());
  return absl::OkStatus();
}

TEST(StatusMacros, AssignOrReturnMovesTheValueOut) {
  absl::StatusOr<int> result = DoubledOrError(true);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 14);
}

TEST(StatusMacros, AssignOrReturnPropagatesTheErrorCodeAndMessage) {
  absl::StatusOr<int> result = DoubledOrError(false);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(), "try later");
}

TEST(StatusMacros, ReturnIfErrorStopsAtTheFirstError) {
  EXPECT_TRUE(FailsWhen(false).ok());
  EXPECT_EQ(FailsWhen(true).code(), absl::StatusCode::kAborted);
}

}  // namespace
