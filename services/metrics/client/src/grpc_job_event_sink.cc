#include "kubedl/metrics/grpc_job_event_sink.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "glog/logging.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "kubedl/common/backoff.h"

namespace kubedl::metrics {
namespace {

// Events taken from the buffer per lock, so Send contends with the writer only briefly.
constexpr size_t kBatch = 256;
// How long the destructor lets the stream end gracefully before cancelling it.
constexpr absl::Duration kGracefulStop = absl::Milliseconds(500);

std::string DefaultReconcilerId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host, "/", getpid(), "/", absl::ToUnixNanos(absl::Now()));
}

int Millis(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, 1 << 30));
}

}  // namespace

GrpcJobEventSink::GrpcJobEventSink(GrpcJobEventSinkOptions options)
    : options_(std::move(options)) {
  if (options_.reconciler_id.empty()) options_.reconciler_id = DefaultReconcilerId();
  if (!options_.credentials) options_.credentials = grpc::InsecureChannelCredentials();
  options_.snapshot_part_size = std::max<size_t>(options_.snapshot_part_size, 1);
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff (default up to 2 min) would otherwise outlast ours.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, Millis(options_.initial_backoff));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, Millis(options_.initial_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, Millis(options_.max_backoff));
  // Notice a service that vanished without closing the connection (node gone).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  channel_ = grpc::CreateCustomChannel(options_.target, options_.credentials, args);
  stub_ = v1::MetricsSink::NewStub(channel_);
  thread_ = std::thread([this] { Run(); });
}

GrpcJobEventSink::~GrpcJobEventSink() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // The thread closes the stream gracefully; only a write stuck on flow control (a service
    // that stopped reading) needs the call cancelled to let go.
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return thread_done_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), kGracefulStop) &&
        active_context_ != nullptr) {
      active_context_->TryCancel();
    }
  }
  thread_.join();
}

bool GrpcJobEventSink::Send(v1::JobEvent event) {
  {
    absl::MutexLock lock(&mu_);
    // Events being written or awaiting acknowledgement still hold their place.
    if (buffer_.size() + in_flight_size_ + unacknowledged_.size() < options_.buffer_capacity) {
      buffer_.push_back(std::move(event));
      return true;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  if (options_.dropped_counter != nullptr) options_.dropped_counter->Increment();
  return false;
}

bool GrpcJobEventSink::Flush(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return buffer_.empty() && in_flight_size_ == 0 && unacknowledged_.empty();
  };
  {
    absl::MutexLock lock(&mu_);
    if (drained()) return true;
  }
  // A sink waiting out its reconnect backoff (seconds, once the service was unreachable for a
  // while) would hold the buffer past the caller's deadline, and at shutdown the events would die
  // with the process: a leader deleted soon after the metrics Service got its endpoint lost its
  // jobs from the counters. So Flush connects now (gRPC's own backoff reset) and wakes the thread
  // for one retry on the ready channel; a retry that fails goes back to the normal backoff.
  grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
  channel_->WaitForConnected(absl::ToChronoTime(deadline));
  absl::MutexLock lock(&mu_);
  retry_now_ = true;
  return mu_.AwaitWithTimeout(absl::Condition(&drained),
                              std::max(deadline - absl::Now(), absl::ZeroDuration()));
}

void GrpcJobEventSink::RequestSnapshot() {
  absl::MutexLock lock(&mu_);
  snapshot_requested_ = true;
}

void GrpcJobEventSink::Run() {
  // Full jitter (half to all of the delay) keeps many reconcilers from reconnecting in step.
  common::Backoff backoff({.initial = options_.initial_backoff,
                           .max = options_.max_backoff,
                           .min_jitter = 0.5,
                           .max_jitter = 1.0});
  while (true) {
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      active_context_ = &context;
      retry_now_ = false;  // this attempt is the retry
    }
    Requeue();
    std::unique_ptr<Stream> stream = stub_->Deliver(&context);
    streams_opened_.fetch_add(1, std::memory_order_relaxed);
    std::thread reader([this, &stream] { ReadAcknowledgements(*stream); });
    const bool wrote = WriteAll(*stream);
    connected_.store(false, std::memory_order_relaxed);
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = stopping_;
    }
    // The stream broke: do not wait for a graceful end. When stopping, the service answers the
    // end of the writes with a last acknowledgement and ends the call (or the destructor cancels).
    if (!stopping) context.TryCancel();
    reader.join();
    const grpc::Status status = stream->Finish();
    {
      absl::MutexLock lock(&mu_);
      active_context_ = nullptr;
      if (stopping_) break;
    }
    if (wrote) backoff.Reset();  // it was up: retry soon
    const absl::Duration wait = backoff.Next();
    LOG_EVERY_N(WARNING, 10) << "metrics sink stream to " << options_.target
                             << " ended: " << status.error_message() << "; retrying in " << wait;
    WaitBackoff(wait);
  }
  absl::MutexLock lock(&mu_);
  thread_done_ = true;
}

void GrpcJobEventSink::WaitBackoff(absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || retry_now_; };
  mu_.AwaitWithTimeout(absl::Condition(&wake), wait);
}

void GrpcJobEventSink::Requeue() {
  absl::MutexLock lock(&mu_);
  // Oldest first: the unacknowledged events were written before the batch that was in flight.
  buffer_.insert(buffer_.begin(), std::make_move_iterator(in_flight_.begin()),
                 std::make_move_iterator(in_flight_.end()));
  in_flight_.clear();
  in_flight_size_ = 0;
  for (auto it = unacknowledged_.rbegin(); it != unacknowledged_.rend(); ++it) {
    buffer_.push_front(std::move(it->event));
  }
  unacknowledged_.clear();
  acknowledged_messages_ = 0;
  stream_ended_ = false;
  stream_messages_ = 0;
}

void GrpcJobEventSink::ReadAcknowledgements(Stream& stream) {
  v1::DeliveryAck ack;
  while (stream.Read(&ack)) {
    uint64_t dropped = 0;
    absl::MutexLock lock(&mu_);
    acknowledged_messages_ = std::max(acknowledged_messages_, ack.applied());
    while (!unacknowledged_.empty() && unacknowledged_.front().seq <= acknowledged_messages_) {
      unacknowledged_.pop_front();
      ++dropped;
    }
    acknowledged_.fetch_add(dropped, std::memory_order_relaxed);
  }
  absl::MutexLock lock(&mu_);
  stream_ended_ = true;
}

bool GrpcJobEventSink::WriteAll(Stream& stream) {
  bool wrote = false;
  // A fresh stream may talk to a restarted service: rebuild its gauges first.
  if (options_.live_jobs) {
    if (!WriteSnapshot(stream)) return wrote;
    wrote = true;
  }
  while (true) {
    if (!in_flight_.empty()) {
      if (!WriteInFlight(stream)) return wrote;
      wrote = true;
    }
    bool snapshot_due = false;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || stream_ended_ || snapshot_requested_ || !buffer_.empty();
      };
      const absl::Duration until_snapshot =
          options_.live_jobs ? next_snapshot_ - absl::Now() : absl::Seconds(1);
      mu_.AwaitWithTimeout(absl::Condition(&ready), std::max(until_snapshot, absl::ZeroDuration()));
      if (stopping_) {
        stream.WritesDone();
        return wrote;
      }
      // The service went away (its acknowledgements with it): what it did not acknowledge is
      // written again on the next stream.
      if (stream_ended_) return wrote;
      snapshot_due = options_.live_jobs && (snapshot_requested_ || absl::Now() >= next_snapshot_);
      snapshot_requested_ = false;
      const size_t n = std::min(buffer_.size(), kBatch);
      for (size_t i = 0; i < n; ++i) {
        in_flight_.push_back(std::move(buffer_.front()));
        buffer_.pop_front();
      }
      in_flight_size_ = in_flight_.size();
    }
    if (snapshot_due) {
      if (!WriteSnapshot(stream)) return wrote;
      wrote = true;
    }
  }
}

bool GrpcJobEventSink::WriteInFlight(Stream& stream) {
  // The batch is coalesced into few frames: a buffered write "succeeds" before anything is sent.
  // A write into a connection that is already dead can succeed too; either way the events stay
  // in the sink until the service acknowledges them.
  v1::ReportRequest request;
  for (size_t i = 0; i < in_flight_.size(); ++i) {
    *request.mutable_event() = in_flight_[i];
    grpc::WriteOptions write_options;
    if (i + 1 < in_flight_.size()) write_options.set_buffer_hint();
    if (!stream.Write(request, write_options)) return false;
  }
  written_.fetch_add(in_flight_.size(), std::memory_order_relaxed);
  connected_.store(true, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  for (v1::JobEvent& event : in_flight_) {
    const uint64_t seq = ++stream_messages_;
    // An acknowledgement can overtake the bookkeeping of what it covers.
    if (seq > acknowledged_messages_) {
      unacknowledged_.push_back({seq, std::move(event)});
    } else {
      acknowledged_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  in_flight_.clear();
  in_flight_size_ = 0;
  return true;
}

bool GrpcJobEventSink::WriteSnapshot(Stream& stream) {
  next_snapshot_ = absl::Now() + options_.snapshot_interval;
  const std::vector<v1::LiveJob> jobs = options_.live_jobs();
  const uint64_t generation = ++snapshot_generation_;
  size_t begin = 0;
  do {
    const size_t end = std::min(jobs.size(), begin + options_.snapshot_part_size);
    v1::ReportRequest request;
    v1::LiveJobsSnapshot* part = request.mutable_snapshot();
    part->set_reconciler_id(options_.reconciler_id);
    part->set_generation(generation);
    part->mutable_jobs()->Add(jobs.begin() + begin, jobs.begin() + end);
    part->set_last(end == jobs.size());
    if (!stream.Write(request)) return false;
    ++stream_messages_;
    begin = end;
  } while (begin < jobs.size());
  connected_.store(true, std::memory_order_relaxed);
  return true;
}

}  // namespace kubedl::metrics
