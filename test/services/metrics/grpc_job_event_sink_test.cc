// The client's behaviour with no service listening: it must never block its caller.
#include "kubedl/metrics/grpc_job_event_sink.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "kubedl/metrics/job_events.h"
#include "prometheus/registry.h"

namespace kubedl::metrics {
namespace {

// A loopback port nobody listens on (port 1 needs root to bind).
constexpr char kNobodyListens[] = "127.0.0.1:1";

v1::JobEvent Created(int i) {
  return JobCreatedEvent(MakeJobKey("u" + std::to_string(i), "TFJob", "ns", "j"),
                         absl::FromUnixSeconds(1'700'000'000));
}

TEST(GrpcJobEventSinkTest, SendNeverBlocksAndCountsDropsWhenTheServiceIsAbsent) {
  prometheus::Registry registry;
  auto& dropped = prometheus::BuildCounter().Name("dropped_total").Register(registry).Add({});
  GrpcJobEventSink sink({.target = kNobodyListens,
                         .buffer_capacity = 100,
                         .initial_backoff = absl::Milliseconds(10),
                         .max_backoff = absl::Milliseconds(50),
                         .dropped_counter = &dropped});
  std::vector<absl::Duration> took;
  int accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    const absl::Time start = absl::Now();
    accepted += sink.Send(Created(i)) ? 1 : 0;
    took.push_back(absl::Now() - start);
  }
  std::sort(took.begin(), took.end());
  EXPECT_EQ(accepted, 100);
  EXPECT_EQ(sink.DroppedEvents(), 900u);
  EXPECT_EQ(dropped.Value(), 900);
  // Microseconds as a rule; the bound leaves room for a preempted thread on a busy machine.
  EXPECT_LT(took[took.size() * 99 / 100], absl::Microseconds(200));
  EXPECT_LT(took.back(), absl::Milliseconds(20)) << "median " << took[took.size() / 2];
  EXPECT_FALSE(sink.Connected());
  EXPECT_FALSE(sink.Flush(absl::Milliseconds(50)));  // nowhere to deliver them
}

TEST(GrpcJobEventSinkTest, KeepsRetryingWithBackoffWhileTheServiceIsAbsent) {
  GrpcJobEventSink sink({.target = kNobodyListens,
                         .initial_backoff = absl::Milliseconds(10),
                         .max_backoff = absl::Milliseconds(40)});
  ASSERT_TRUE(sink.Send(Created(1)));
  absl::SleepFor(absl::Milliseconds(500));
  // At most 40 ms between attempts (plus the failed attempt itself): several, but not a spin.
  EXPECT_GE(sink.StreamsOpened(), 5u);
  EXPECT_LE(sink.StreamsOpened(), 100u);
  EXPECT_EQ(sink.EventsWritten(), 0u);
}

TEST(GrpcJobEventSinkTest, DestructorReturnsPromptlyWithEventsStillBuffered) {
  const absl::Time start = absl::Now();
  {
    GrpcJobEventSink sink({.target = kNobodyListens, .max_backoff = absl::Seconds(30)});
    for (int i = 0; i < 10; ++i) sink.Send(Created(i));
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

// Applies the events of every Deliver stream (records their job UIDs) and acknowledges each
// message. Its first stream instead takes `lose_on_first_stream` events off the wire and fails
// without applying them, as a service killed before it got to them; while `hold` is set it applies
// but does not acknowledge.
class CountingService final : public v1::MetricsSink::Service {
 public:
  grpc::Status Deliver(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::DeliveryAck, v1::ReportRequest>* stream) override {
    const bool first = streams.fetch_add(1) == 0;
    int lost = 0;
    v1::ReportRequest request;
    v1::DeliveryAck ack;
    while (stream->Read(&request)) {
      if (first && lose_on_first_stream > 0) {
        if (++lost == lose_on_first_stream) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "");
        continue;
      }
      if (request.has_event()) {
        absl::MutexLock lock(&mu);
        applied.push_back(request.event().job().uid());
      }
      ack.set_applied(ack.applied() + 1);
      while (hold.load()) absl::SleepFor(absl::Milliseconds(1));
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  std::vector<std::string> Applied() {
    absl::MutexLock lock(&mu);
    return applied;
  }

  int lose_on_first_stream = 0;
  std::atomic<bool> hold{false};
  std::atomic<int> streams{0};
  absl::Mutex mu;
  std::vector<std::string> applied ABSL_GUARDED_BY(mu);
};

std::unique_ptr<grpc::Server> Serve(CountingService& service, int port, int* bound = nullptr) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           bound);
  builder.RegisterService(&service);
  return builder.BuildAndStart();
}

// A reconciler leaving (the leader pod deleted) flushes before it exits. If the service was
// unreachable for a while, the sink sits in a backoff of seconds; the flush must not wait it out
// (the events would be discarded with the process) but retry now that the service is there.
TEST(GrpcJobEventSinkTest, FlushRetriesAtOnceInsteadOfWaitingOutTheReconnectBackoff) {
  CountingService service;
  int port = 0;
  Serve(service, 0, &port)->Shutdown();  // a free port, nobody listening on it yet
  ASSERT_GT(port, 0);
  GrpcJobEventSink sink({.target = "127.0.0.1:" + std::to_string(port),
                         .initial_backoff = absl::Seconds(20),
                         .max_backoff = absl::Seconds(30)});
  ASSERT_TRUE(sink.Send(Created(1)));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (sink.StreamsOpened() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  absl::SleepFor(absl::Milliseconds(200));  // the attempt failed: 10 to 20 s of backoff now
  ASSERT_EQ(sink.EventsWritten(), 0u);

  std::unique_ptr<grpc::Server> server = Serve(service, port);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(sink.Flush(absl::Seconds(5)));
  EXPECT_EQ(sink.EventsWritten(), 1u);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  EXPECT_EQ(service.Applied().size(), 1u);
}

// A service killed while events sat in its socket never applied them, though the client's writes
// succeeded. The client writes what was not acknowledged again on its next stream.
TEST(GrpcJobEventSinkTest, EventsTheServiceDiedBeforeApplyingAreWrittenAgainOnTheNextStream) {
  CountingService service;
  service.lose_on_first_stream = 3;
  int port = 0;
  std::unique_ptr<grpc::Server> server = Serve(service, 0, &port);
  ASSERT_NE(server, nullptr);
  GrpcJobEventSink sink({.target = "127.0.0.1:" + std::to_string(port),
                         .initial_backoff = absl::Milliseconds(10),
                         .max_backoff = absl::Milliseconds(50)});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sink.Send(Created(i)));
  ASSERT_TRUE(sink.Flush(absl::Seconds(10)));
  EXPECT_GE(service.streams.load(), 2);
  EXPECT_GE(sink.EventsWritten(), 8u);  // 3 into the dying stream, then all 5
  EXPECT_EQ(sink.EventsAcknowledged(), 5u);
  std::vector<std::string> applied = service.Applied();
  std::sort(applied.begin(), applied.end());
  EXPECT_EQ(applied, (std::vector<std::string>{"u0", "u1", "u2", "u3", "u4"}));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

// Flush means applied, not written: it waits for the acknowledgement, and unacknowledged events
// keep their place in the buffer's bound.
TEST(GrpcJobEventSinkTest, FlushWaitsUntilTheServiceAcknowledgesAndUnacknowledgedEventsCountInTheBound) {
  CountingService service;
  service.hold = true;
  int port = 0;
  std::unique_ptr<grpc::Server> server = Serve(service, 0, &port);
  ASSERT_NE(server, nullptr);
  GrpcJobEventSink sink({.target = "127.0.0.1:" + std::to_string(port), .buffer_capacity = 2});
  ASSERT_TRUE(sink.Send(Created(1)));
  ASSERT_TRUE(sink.Send(Created(2)));
  EXPECT_FALSE(sink.Flush(absl::Milliseconds(300)));
  EXPECT_EQ(sink.EventsWritten(), 2u);
  EXPECT_EQ(sink.EventsAcknowledged(), 0u);
  EXPECT_FALSE(sink.Send(Created(3)));  // both still held for the service
  service.hold = false;
  EXPECT_TRUE(sink.Flush(absl::Seconds(5)));
  EXPECT_EQ(sink.EventsAcknowledged(), 2u);
  EXPECT_TRUE(sink.Send(Created(3)));
  EXPECT_TRUE(sink.Flush(absl::Seconds(5)));
  EXPECT_EQ(service.Applied().size(), 3u);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

TEST(GrpcJobEventSinkTest, ReconcilerIdDefaultsToOneUniquePerProcess) {
  GrpcJobEventSink a({.target = kNobodyListens});
  GrpcJobEventSink b({.target = kNobodyListens, .reconciler_id = "reconciler-0"});
  EXPECT_FALSE(a.reconciler_id().empty());
  EXPECT_EQ(b.reconciler_id(), "reconciler-0");
}

}  // namespace
}  // namespace kubedl::metrics
