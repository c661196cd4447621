#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "kubedl/metrics/job_event_sink.h"
#include "kubedl/v1/metrics.grpc.pb.h"
#include "prometheus/counter.h"

namespace kubedl::metrics {

struct GrpcJobEventSinkOptions {
  std::string target;  // host:port of kubedl-metrics' gRPC port
  // Names this process's snapshots; a snapshot replaces what the same id said before. Empty:
  // "<hostname>/<pid>/<start time>", unique per process.
  std::string reconciler_id;
  // Events held while the service is slow or absent: buffered, being written, or written and not
  // yet acknowledged.
  size_t buffer_capacity = 10000;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
  // Every live job, for the gauges; called on the sink's thread, so it must be thread-safe.
  // Empty: no snapshots are sent.
  std::function<std::vector<v1::LiveJob>()> live_jobs;
  absl::Duration snapshot_interval = absl::Seconds(30);
  size_t snapshot_part_size = 5000;  // jobs per LiveJobsSnapshot message
  // Incremented on every dropped event when set (the reconciler's own
  // kubedl_reconciler_metrics_events_dropped_total); must outlive the sink.
  prometheus::Counter* dropped_counter = nullptr;
  std::shared_ptr<grpc::ChannelCredentials> credentials;  // default: insecure (loopback/cluster)
};

// A JobEventSink that streams to the MetricsSink service. Send puts the event into a bounded
// buffer and returns; one background thread keeps a Deliver stream open, writes the buffer in
// order, sends a snapshot of live jobs right after every (re)connection and then every
// snapshot_interval, and reconnects with exponential backoff (with jitter) when the service is
// absent or restarts. Each event is kept until the service acknowledges having applied it; what a
// stream did not get acknowledged is written again, first, on the next one (the service
// deduplicates), so a service killed mid-stream loses nothing the client sent.
class GrpcJobEventSink final : public JobEventSink {
 public:
  explicit GrpcJobEventSink(GrpcJobEventSinkOptions options);
  // Ends the stream (gracefully, or cancelled after 500 ms) and stops the thread; events still
  // buffered are discarded (call Flush first to deliver them).
  ~GrpcJobEventSink() override;

  GrpcJobEventSink(const GrpcJobEventSink&) = delete;
  GrpcJobEventSink& operator=(const GrpcJobEventSink&) = delete;

  bool Send(v1::JobEvent event) override ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t DroppedEvents() const override { return dropped_.load(std::memory_order_relaxed); }

  // Waits until the service acknowledged every buffered event; false on timeout. A sink that is
  // waiting out its reconnect backoff connects and retries at once (once per call).
  bool Flush(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  // Sends a snapshot now instead of at the next interval.
  void RequestSnapshot() ABSL_LOCKS_EXCLUDED(mu_);

  // For the caller's own metrics and logs.
  bool Connected() const { return connected_.load(std::memory_order_relaxed); }
  uint64_t StreamsOpened() const { return streams_opened_.load(std::memory_order_relaxed); }
  uint64_t EventsWritten() const { return written_.load(std::memory_order_relaxed); }
  uint64_t EventsAcknowledged() const { return acknowledged_.load(std::memory_order_relaxed); }
  const std::string& reconciler_id() const { return options_.reconciler_id; }

 private:
  using Stream = grpc::ClientReaderWriterInterface<v1::ReportRequest, v1::DeliveryAck>;
  // An event written on the current stream as its `seq`-th message, awaiting acknowledgement.
  struct Unacknowledged {
    uint64_t seq;
    v1::JobEvent event;
  };

  void Run();
  // Puts what the last stream left unacknowledged or unwritten back at the buffer's front.
  void Requeue() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes until a write fails, the stream ends or the sink stops; true if anything was written.
  bool WriteAll(Stream& stream) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs on a thread of its own per stream: drops acknowledged events until the stream ends.
  void ReadAcknowledgements(Stream& stream) ABSL_LOCKS_EXCLUDED(mu_);
  bool WriteSnapshot(Stream& stream);
  bool WriteInFlight(Stream& stream) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits `wait`, or less when the sink stops or a Flush asks for a retry now.
  void WaitBackoff(absl::Duration wait) ABSL_LOCKS_EXCLUDED(mu_);

  GrpcJobEventSinkOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MetricsSink::Stub> stub_;

  mutable absl::Mutex mu_;
  std::deque<v1::JobEvent> buffer_ ABSL_GUARDED_BY(mu_);
  // Taken from the buffer but not yet written to a live stream; only the thread touches the
  // events, the size is shared for Flush.
  std::deque<v1::JobEvent> in_flight_;
  size_t in_flight_size_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Unacknowledged> unacknowledged_ ABSL_GUARDED_BY(mu_);  // in the order written
  uint64_t acknowledged_messages_ ABSL_GUARDED_BY(mu_) = 0;  // of the current stream
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;  // seen by the reader: reconnect
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool snapshot_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool retry_now_ ABSL_GUARDED_BY(mu_) = false;  // a Flush cuts the current backoff short
  bool thread_done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* active_context_ ABSL_GUARDED_BY(mu_) = nullptr;

  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> acknowledged_{0};
  std::atomic<uint64_t> streams_opened_{0};
  std::atomic<bool> connected_{false};
  uint64_t snapshot_generation_ = 0;
  uint64_t stream_messages_ = 0;  // written on the current stream, snapshot parts included
  absl::Time next_snapshot_ = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace kubedl::metrics
