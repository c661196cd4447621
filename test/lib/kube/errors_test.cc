#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"

namespace kubedl::kube {
namespace {

TEST(ErrorsTest, NotFoundStatusKeepsReasonAndMessage) {
  absl::Status s = StatusFromResponse(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"pods \"x\" not found","reason":"NotFound","code":404})");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "pods \"x\" not found");
  EXPECT_TRUE(kube::IsNotFound(s));
  EXPECT_FALSE(IsConflict(s));
  EXPECT_EQ(HttpCode(s), 404);
}

TEST(ErrorsTest, ConflictIsAbortedAndAlreadyExistsIsDistinct) {
  absl::Status conflict = StatusFromResponse(409, R"({"kind":"Status","reason":"Conflict",
    "message":"the object has been modified"})");
  EXPECT_EQ(conflict.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(IsConflict(conflict));
  EXPECT_FALSE(kube::IsAlreadyExists(conflict));
  absl::Status exists = StatusFromResponse(409, R"({"kind":"Status","reason":"AlreadyExists"})");
  EXPECT_EQ(exists.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(kube::IsAlreadyExists(exists));
  EXPECT_FALSE(IsConflict(exists));
}

TEST(ErrorsTest, InvalidKeepsFieldCauses) {
  absl::Status s = StatusFromResponse(422, R"({"kind":"Status","reason":"Invalid","message":"bad",
    "details":{"causes":[{"reason":"FieldValueRequired","message":"Required value",
    "field":"spec.containers[0].image"}]}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsInvalid(s));
  auto causes = Causes(s);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].type, "FieldValueRequired");
  EXPECT_EQ(causes[0].field, "spec.containers[0].image");
}

TEST(ErrorsTest, ExpiredWatchErrorIsGone) {
  absl::Status s = StatusFromStatusObject(
      R"({"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"})");
  EXPECT_TRUE(IsGone(s));
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(IsGone(StatusFromResponse(410, R"({"kind":"Status","reason":"Gone"})")));
}

TEST(ErrorsTest, BodyThatIsNotAStatusFallsBackToTheHttpCode) {
  absl::Status s = StatusFromResponse(503, "<html>proxy says no</html>");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsServerUnavailable(s));
  EXPECT_EQ(Reason(s), "ServiceUnavailable");
  EXPECT_NE(s.message().find("proxy says no"), absl::string_view::npos);

  EXPECT_TRUE(IsTooManyRequests(StatusFromResponse(429, "")));
  EXPECT_EQ(StatusFromResponse(429, "").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsForbidden(StatusFromResponse(403, "")));
  EXPECT_EQ(StatusFromResponse(403, "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(IsUnauthorized(StatusFromResponse(401, "")));
  EXPECT_EQ(StatusFromResponse(401, "").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(IsUnsupportedMediaType(StatusFromResponse(415, "")));
  EXPECT_TRUE(IsBadRequest(StatusFromResponse(400, "")));
}

TEST(ErrorsTest, StatusesNotFromTheServerHaveNoReason) {
  absl::Status s = absl::NotFoundError("local");
  EXPECT_EQ(Reason(s), "");
  EXPECT_FALSE(kube::IsNotFound(s));
  EXPECT_TRUE(IsServerUnavailable(absl::UnavailableError("connection refused")));
  EXPECT_TRUE(IsConflict(MakeApiError(409, "Conflict", "stale")));
}

}  // namespace
}  // namespace kubedl::kube
