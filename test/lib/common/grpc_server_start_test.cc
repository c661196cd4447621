// A service's gRPC server as kubedl/common/grpc_server_start.h builds it: a free port, the gRPC
// health service, request metrics of every call, and the start errors.
#include "kubedl/common/grpc_server_start.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/ip/tcp.hpp"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "kubedl/v1/gang_scheduler.grpc.pb.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace kubedl::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// grpc.health.v1.Health/Check for the server as a whole (service ""), without the health proto
// (Debian ships no generated code for it): the empty request is zero bytes. The status, and
// the answer's bytes.
std::pair<grpc::Status, std::string> CheckHealth(grpc::Channel& channel) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1), response;
  const grpc::internal::RpcMethod check("/grpc.health.v1.Health/Check",
                                        grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Status status = grpc::internal::BlockingUnaryCall(&channel, check, &context,
                                                          request, &response);
  std::vector<grpc::Slice> slices;
  std::string answer;
  if (status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& slice : slices) answer.append(slice.begin(), slice.end());
  }
  return {status, answer};
}

TEST(CommonGrpcServer, PortZeroPicksAFreePortServingTheServicesAndHealthCountingEveryCall) {
  prometheus::Registry registry;
  GrpcServerMetrics metrics(registry);
  v1::GangScheduler::Service unimplemented;  // every method answers UNIMPLEMENTED
  absl::StatusOr<GrpcServer> started = StartGrpcServer(
      {.address = "127.0.0.1",
       .port = 0,
       .insecure_plaintext = true,
       .services = {&unimplemented},
       .metrics = &metrics});
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_GT(started->port, 0);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", started->port), grpc::InsecureChannelCredentials());

  auto [status, answer] = CheckHealth(*channel);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer, std::string("\x08\x01", 2)) << "SERVING";
  grpc::ClientContext context;
  v1::Gang gang;
  EXPECT_EQ(v1::GangScheduler::NewStub(channel)->GetGang(&context, {}, &gang).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  const std::string exposition = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_THAT(exposition, HasSubstr("grpc_server_handled_total{code=\"OK\",method=\"/grpc.health."
                                    "v1.Health/Check\"} 1"));
  EXPECT_THAT(exposition, HasSubstr("grpc_server_handled_total{code=\"UNIMPLEMENTED\",method=\"/"
                                    "kubedl.v1.GangScheduler/GetGang\"} 1"));
  started->server->Shutdown(std::chrono::system_clock::now());
}

TEST(CommonGrpcServer, MadeUpMethodNamesAreCountedAsUnknownAndAddNoSeries) {
  prometheus::Registry registry;
  GrpcServerMetrics metrics(registry);
  v1::GangScheduler::Service unimplemented;
  absl::StatusOr<GrpcServer> started = StartGrpcServer(
      {.address = "127.0.0.1",
       .port = 0,
       .insecure_plaintext = true,
       .services = {&unimplemented},
       .metrics = &metrics});
  ASSERT_TRUE(started.ok()) << started.status();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", started->port), grpc::InsecureChannelCredentials());
  for (const char* method : {"/kubedl.v1.GangScheduler/NoSuchMethod", "/x.Y/Z1", "/x.Y/Z2"}) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice empty;
    grpc::ByteBuffer request(&empty, 1), response;
    const grpc::internal::RpcMethod rpc(method, grpc::internal::RpcMethod::NORMAL_RPC);
    EXPECT_EQ(grpc::internal::BlockingUnaryCall(channel.get(), rpc, &context, request, &response)
                  .error_code(),
              grpc::StatusCode::UNIMPLEMENTED)
        << method;
  }
  const std::string exposition = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_THAT(exposition, HasSubstr("grpc_server_handled_total{code=\"UNIMPLEMENTED\",method=\"unknown\"} 3"));
  EXPECT_THAT(exposition, Not(HasSubstr("NoSuchMethod")));
  EXPECT_THAT(exposition, Not(HasSubstr("/x.Y/")));
  started->server->Shutdown(std::chrono::system_clock::now());
}

TEST(CommonGrpcServer, APortTakenIsUnavailableNamingTheAddress) {
  // A listener without SO_REUSEPORT, so gRPC's bind cannot share the port.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const int port = taken.local_endpoint().port();
  absl::StatusOr<GrpcServer> started = StartGrpcServer(
      {.address = "127.0.0.1", .port = port, .insecure_plaintext = true});
  EXPECT_EQ(started.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(started.status().message(), absl::StrCat("cannot listen for gRPC on 127.0.0.1:", port));
}

TEST(CommonGrpcServer, NeitherTlsNorAnExplicitPlaintextChoiceRefusesToStart) {
  absl::StatusOr<GrpcServer> started = StartGrpcServer({.address = "127.0.0.1"});
  EXPECT_EQ(started.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(started.status().message()), HasSubstr("--insecure-plaintext"));
}

TEST(CommonGrpcServer, AnUnreadableTlsFileRefusesToStartNamingIt) {
  absl::StatusOr<GrpcServer> started = StartGrpcServer(
      {.address = "127.0.0.1",
       .tls = TlsFiles{.cert_file = "/nonexistent/server.crt", .key_file = "/nonexistent/server.key"}});
  EXPECT_EQ(started.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(started.status().message()), HasSubstr("/nonexistent/server.crt"));
}

TEST(CommonGrpcServer, TlsWithoutAKeyFileIsInvalid) {
  absl::StatusOr<GrpcServer> started = StartGrpcServer(
      {.address = "127.0.0.1", .tls = TlsFiles{.cert_file = "/nonexistent/server.crt"}});
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kubedl::common
