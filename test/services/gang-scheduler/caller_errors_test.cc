// The gang scheduler's answer to each kind of API server failure: a code that tells the
// reconciler whether to retry with backoff, retry much later, or not resend the same request.
#include "caller_errors.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"

namespace kubedl::gang {
namespace {

using ::testing::HasSubstr;

struct Case {
  std::string what;
  absl::Status from_api_server;
  absl::StatusCode for_caller;
};

TEST(CallerErrorsTest, EachApiServerFailureGetsTheCodeOfWhatTheCallerShouldDo) {
  const Case cases[] = {
      {"503 from an API server shedding load", kube::MakeApiError(503, "ServiceUnavailable", "busy"),
       absl::StatusCode::kUnavailable},
      {"500 InternalError", kube::MakeApiError(500, "InternalError", "etcd leader changed"),
       absl::StatusCode::kUnavailable},
      {"504 timeout", kube::MakeApiError(504, "Timeout", "the server was unable to respond"),
       absl::StatusCode::kUnavailable},
      {"a proxy's HTML 502 page", kube::StatusFromResponse(502, "<html>Bad Gateway</html>"),
       absl::StatusCode::kUnavailable},
      {"429 priority and fairness", kube::MakeApiError(429, "TooManyRequests", "slow down"),
       absl::StatusCode::kUnavailable},
      {"401 while a token rotates", kube::MakeApiError(401, "Unauthorized", "token expired"),
       absl::StatusCode::kUnavailable},
      {"no answer in time", absl::DeadlineExceededError("GET podgroups: deadline"),
       absl::StatusCode::kUnavailable},
      {"etcd's size refusal, passed on as 500",
       kube::MakeApiError(500, "InternalError", "etcdserver: request is too large"),
       absl::StatusCode::kInvalidArgument},
      {"the etcd client's send limit, passed on as 500",
       kube::MakeApiError(500, "InternalError",
                          "rpc error: trying to send message larger than max (3000000 vs. 2097152)"),
       absl::StatusCode::kInvalidArgument},
      {"413 request entity too large", kube::MakeApiError(413, "RequestEntityTooLarge", "limit is 3145728"),
       absl::StatusCode::kInvalidArgument},
      {"422 invalid", kube::MakeApiError(422, "Invalid", "spec.minMember: Invalid value"),
       absl::StatusCode::kInvalidArgument},
      {"400 bad request", kube::MakeApiError(400, "BadRequest", "bad json"),
       absl::StatusCode::kInvalidArgument},
      {"403 from the service's RBAC", kube::MakeApiError(403, "Forbidden", "cannot create podgroups"),
       absl::StatusCode::kFailedPrecondition},
      {"404 keeps its code", kube::MakeApiError(404, "NotFound", "podgroups \"x\" not found"),
       absl::StatusCode::kNotFound},
      {"409 keeps its code", kube::MakeApiError(409, "Conflict", "the object has been modified"),
       absl::StatusCode::kAborted},
      {"this service's own refusal keeps its code",
       absl::PermissionDeniedError("namespace kube-system is protected"),
       absl::StatusCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    const absl::Status answer = ForCaller(c.from_api_server);
    EXPECT_EQ(answer.code(), c.for_caller) << c.what << ": " << answer;
    EXPECT_THAT(std::string(answer.message()),
                HasSubstr(std::string(c.from_api_server.message())))
        << c.what << ": the API server's words reach the caller";
  }
}

TEST(CallerErrorsTest, TooLargeSaysTheSameRequestWouldBeRefusedAgain) {
  const absl::Status answer =
      ForCaller(kube::MakeApiError(500, "InternalError", "etcdserver: request is too large"));
  EXPECT_THAT(std::string(answer.message()), HasSubstr("would be refused again"));
}

TEST(CallerErrorsTest, ForbiddenPointsAtTheServiceAccountsRbac) {
  const absl::Status answer = ForCaller(kube::MakeApiError(403, "Forbidden", "no"));
  EXPECT_THAT(std::string(answer.message()), HasSubstr("RBAC"));
}

TEST(CallerErrorsTest, OkStaysOk) { EXPECT_TRUE(ForCaller(absl::OkStatus()).ok()); }

}  // namespace
}  // namespace kubedl::gang
