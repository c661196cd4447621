// The gRPC layer over the aggregator, over real gRPC on loopback inside the test process.
#include "services/metrics/metrics_sink_service.h"

#include <future>
#include <memory>

#include "grpcpp/create_channel.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "kubedl/metrics/job_events.h"
#include "kubedl/common/fake_clock.h"
#include "kubedl/common/grpc_server_metrics.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "test/services/metrics/registry_reader.h"

namespace kubedl::metrics {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

class MetricsSinkServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(grpc_metrics_.Factory());
    builder.experimental().SetInterceptorCreators(std::move(factories));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::MetricsSink::NewStub(channel_);
  }
  void TearDown() override { server_->Shutdown(); }

  static v1::ReportRequest Event(v1::JobEvent e) {
    v1::ReportRequest r;
    *r.mutable_event() = std::move(e);
    return r;
  }

  prometheus::Registry registry_;
  common::FakeClock clock_{kT0};
  JobMetricsAggregator aggregator_{registry_, clock_, {}};
  common::GrpcServerMetrics grpc_metrics_{registry_};
  MetricsSinkService service_{aggregator_};
  testing::RegistryReader reader_{registry_};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MetricsSink::Stub> stub_;
};

TEST_F(MetricsSinkServiceTest, StreamFeedsTheAggregatorAndTheSummaryCountsAcceptedAndRejected) {
  const v1::JobKey job = MakeJobKey("u1", "XGBoostJob", "ns", "j");
  grpc::ClientContext context;
  v1::ReportSummary summary;
  auto writer = stub_->Report(&context, &summary);
  ASSERT_TRUE(writer->Write(Event(JobCreatedEvent(job, kT0))));
  ASSERT_TRUE(writer->Write(Event(JobCreatedEvent(job, kT0))));
  ASSERT_TRUE(writer->Write(Event(JobCreatedEvent(MakeJobKey("", "XGBoostJob", "ns", "j"), kT0))));
  ASSERT_TRUE(writer->Write(v1::ReportRequest()));  // no payload: rejected, stream goes on
  v1::ReportRequest snapshot;
  snapshot.mutable_snapshot()->set_reconciler_id("r1");
  snapshot.mutable_snapshot()->set_last(true);
  *snapshot.mutable_snapshot()->add_jobs() = MakeLiveJob(job, "Running");
  ASSERT_TRUE(writer->Write(snapshot));
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.accepted(), 3);
  EXPECT_EQ(summary.rejected(), 2);
  EXPECT_EQ(reader_.Value("kubedl_jobs_created_total", {{"kind", "XGBoostJob"}, {"namespace", "ns"}}),
            1);
  EXPECT_EQ(reader_.Value("kubedl_jobs_running", {{"kind", "XGBoostJob"}, {"namespace", "ns"}}),
            1);
}

// Deliver acknowledges what it applied, counting every message of the stream (rejected ones
// and snapshot parts too) in the order written, and answers the end of the writes with a last
// acknowledgement covering everything.
TEST_F(MetricsSinkServiceTest, DeliverAcknowledgesEveryAppliedMessageAndEndsWithAFullAcknowledgement) {
  const v1::JobKey job = MakeJobKey("u1", "PyTorchJob", "ns", "j");
  grpc::ClientContext context;
  auto stream = stub_->Deliver(&context);
  ASSERT_TRUE(stream->Write(Event(JobCreatedEvent(job, kT0))));
  v1::DeliveryAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.applied(), 1u);
  EXPECT_EQ(ack.rejected(), 0u);
  EXPECT_EQ(reader_.Value("kubedl_jobs_created_total", {{"kind", "PyTorchJob"}, {"namespace", "ns"}}),
            1);

  ASSERT_TRUE(stream->Write(v1::ReportRequest()));  // no payload: rejected, acknowledged anyway
  v1::ReportRequest snapshot;
  snapshot.mutable_snapshot()->set_reconciler_id("r1");
  snapshot.mutable_snapshot()->set_last(true);
  *snapshot.mutable_snapshot()->add_jobs() = MakeLiveJob(job, "Running");
  ASSERT_TRUE(stream->Write(snapshot));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(stream->Write(Event(JobCreatedEvent(
        MakeJobKey("v" + std::to_string(i), "PyTorchJob", "ns", "j"), kT0))));
  }
  ASSERT_TRUE(stream->WritesDone());
  uint64_t last = ack.applied();
  int acks = 1;
  while (stream->Read(&ack)) {
    EXPECT_GT(ack.applied(), last);  // each acknowledgement covers more
    last = ack.applied();
    ++acks;
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(last, 103u);
  EXPECT_EQ(ack.rejected(), 1u);
  EXPECT_LE(acks, 103);
  EXPECT_EQ(reader_.Value("kubedl_jobs_created_total", {{"kind", "PyTorchJob"}, {"namespace", "ns"}}),
            101);
  EXPECT_EQ(reader_.Value("kubedl_jobs_running", {{"kind", "PyTorchJob"}, {"namespace", "ns"}}), 1);
}

TEST_F(MetricsSinkServiceTest, RequestMetricsCountCallsMessagesAndLatencyByMethod) {
  const std::string method = "/kubedl.v1.MetricsSink/Report";
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    v1::ReportSummary summary;
    auto writer = stub_->Report(&context, &summary);
    for (int j = 0; j < 3; ++j) {
      ASSERT_TRUE(writer->Write(Event(JobCreatedEvent(
          MakeJobKey("u" + std::to_string(i * 3 + j), "TFJob", "ns", "j"), kT0))));
    }
    ASSERT_TRUE(writer->WritesDone());
    ASSERT_TRUE(writer->Finish().ok());
  }
  // The server records a call when it sends the status, which the client may see first.
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (reader_.Value("grpc_server_handled_total", {{"method", method}, {"code", "OK"}}) < 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(reader_.Value("grpc_server_handled_total", {{"method", method}, {"code", "OK"}}), 2);
  EXPECT_EQ(reader_.Value("grpc_server_msg_received_total", {{"method", method}}), 6);
  EXPECT_EQ(reader_.HistogramCount("grpc_server_handling_seconds", {{"method", method}}), 2u);
}

// grpc.health.v1.Health/Check without the health proto (Debian ships no generated code for it):
// an empty HealthCheckRequest is zero bytes; a SERVING response is field 1 = 1, i.e. 08 01.
TEST_F(MetricsSinkServiceTest, HealthServiceReportsServing) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&done](grpc::Status status) { done.set_value(status); });
  ASSERT_TRUE(done.get_future().get().ok());
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace kubedl::metrics
