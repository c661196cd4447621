#include "kubedl/common/grpc_server_security_flags.h"

#include <string>

#include "gflags/gflags.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

DECLARE_string(tls_cert_file);
DECLARE_string(tls_key_file);
DECLARE_string(tls_client_ca_file);
DECLARE_bool(insecure_plaintext);

namespace kubedl::common {
namespace {

using ::testing::HasSubstr;

class GrpcServerSecurityFlagsTest : public ::testing::Test {
 protected:
  gflags::FlagSaver saver_;  // each test starts from the defaults
};

TEST_F(GrpcServerSecurityFlagsTest, AClientCaWithoutACertificateIsInvalid) {
  FLAGS_tls_client_ca_file = "ca.crt";
  FLAGS_insecure_plaintext = true;
  absl::StatusOr<GrpcServerSecurity> security = GrpcServerSecurityFromFlags("127.0.0.1:9090");
  EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(security.status().message()), HasSubstr("--tls-client-ca-file"));
}

TEST_F(GrpcServerSecurityFlagsTest, ACertificateWithoutItsKeyIsInvalid) {
  FLAGS_tls_cert_file = "tls.crt";
  EXPECT_EQ(GrpcServerSecurityFromFlags("127.0.0.1:9090").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GrpcServerSecurityFlagsTest, NoTlsFilesAndNoPlaintextFlagIsInvalid) {
  absl::StatusOr<GrpcServerSecurity> security = GrpcServerSecurityFromFlags("127.0.0.1:9090");
  EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(security.status().message()), HasSubstr("--insecure-plaintext"));
}

TEST_F(GrpcServerSecurityFlagsTest, AllThreeFilesAskForMutualTls) {
  FLAGS_tls_cert_file = "tls.crt";
  FLAGS_tls_key_file = "tls.key";
  FLAGS_tls_client_ca_file = "ca.crt";
  absl::StatusOr<GrpcServerSecurity> security = GrpcServerSecurityFromFlags("127.0.0.1:9090");
  ASSERT_TRUE(security.ok()) << security.status();
  ASSERT_TRUE(security->tls.has_value());
  EXPECT_EQ(security->tls->client_ca_file, "ca.crt");
  EXPECT_STREQ(security->Name(), "mutual TLS");
}

TEST_F(GrpcServerSecurityFlagsTest, PlaintextOnlyWhenAskedForByName) {
  FLAGS_insecure_plaintext = true;
  absl::StatusOr<GrpcServerSecurity> security = GrpcServerSecurityFromFlags("127.0.0.1:9090");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_FALSE(security->tls.has_value());
  EXPECT_STREQ(security->Name(), "plaintext");
}

}  // namespace
}  // namespace kubedl::common
