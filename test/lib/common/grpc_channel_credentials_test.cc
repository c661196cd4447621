// The start-up choices of kubedl/common/grpc_channel_credentials.h: plaintext only when asked
// for, a certificate only with its key and a CA, files that cannot be read named. The TLS
// handshakes themselves are tested with real processes in test/integration/mtls.
#include "kubedl/common/grpc_channel_credentials.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kubedl::common {
namespace {

using ::testing::HasSubstr;

TEST(GrpcChannelCredentials, NoCaIsRefusedUnlessPlaintextIsAskedFor) {
  EXPECT_EQ(GrpcChannelCredentials({}).status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> plaintext =
      GrpcChannelCredentials({}, /*insecure_plaintext=*/true);
  ASSERT_TRUE(plaintext.ok()) << plaintext.status();
  EXPECT_NE(*plaintext, nullptr);
}

TEST(GrpcChannelCredentials, ACertificateWithoutItsKeyIsInvalid) {
  EXPECT_EQ(GrpcChannelCredentials({.ca_file = "/x/ca.crt", .cert_file = "/x/tls.crt"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GrpcChannelCredentials, AClientCertificateWithoutTheServersCaIsInvalidEvenInPlaintext) {
  EXPECT_EQ(GrpcChannelCredentials({.cert_file = "/x/tls.crt", .key_file = "/x/tls.key"},
                                   /*insecure_plaintext=*/true)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GrpcChannelCredentials, AnUnreadableCaIsNamed) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      GrpcChannelCredentials({.ca_file = "/nonexistent/ca.crt"});
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(credentials.status().message()), HasSubstr("/nonexistent/ca.crt"));
}

}  // namespace
}  // namespace kubedl::common
