#include "services/metrics/metrics_sink_service.h"

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"
#include "kubedl/common/error_barrier.h"

namespace kubedl::metrics {
namespace {

// Applies one message of a stream; false when it was malformed (logged, the stream goes on).
bool Apply(JobMetricsAggregator& aggregator, const v1::ReportRequest& request,
           const std::string& peer) {
  absl::Status status = common::StatusOfCall([&] {
    switch (request.payload_case()) {
      case v1::ReportRequest::kEvent:
        return aggregator.Apply(request.event());
      case v1::ReportRequest::kSnapshot:
        return aggregator.Apply(request.snapshot());
      case v1::ReportRequest::PAYLOAD_NOT_SET:
        break;
    }
    return absl::InvalidArgumentError("report message without a payload");
  });
  if (status.ok()) return true;
  LOG_EVERY_N(WARNING, 100) << "rejected a report message from " << peer << ": " << status << " ("
                            << google::COUNTER << " so far on this server)";
  return false;
}

class ReportReactor final : public grpc::ServerReadReactor<v1::ReportRequest> {
 public:
  ReportReactor(JobMetricsAggregator& aggregator, std::string peer, v1::ReportSummary* summary)
      : aggregator_(aggregator), peer_(std::move(peer)), summary_(summary) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side (or went away): answer with the totals
      Finish(grpc::Status::OK);
      return;
    }
    if (Apply(aggregator_, request_, peer_)) {
      summary_->set_accepted(summary_->accepted() + 1);
    } else {
      summary_->set_rejected(summary_->rejected() + 1);
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  JobMetricsAggregator& aggregator_;
  const std::string peer_;
  v1::ReportSummary* summary_;
  v1::ReportRequest request_;
};

// Reads and applies messages one at a time and acknowledges what it applied. At most one
// acknowledgement is being written at a time: what is applied meanwhile goes into the next one,
// so a fast writer costs few acknowledgements. Reads and writes complete on different threads,
// hence the mutex; Start* and Finish are called outside it.
class DeliverReactor final : public grpc::ServerBidiReactor<v1::ReportRequest, v1::DeliveryAck> {
 public:
  DeliverReactor(JobMetricsAggregator& aggregator, std::string peer)
      : aggregator_(aggregator), peer_(std::move(peer)) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      const bool accepted = Apply(aggregator_, request_, peer_);
      {
        absl::MutexLock lock(&mu_);
        ++applied_;
        if (!accepted) ++rejected_;
      }
      StartRead(&request_);
    } else {  // the client ended its side (or went away): a last acknowledgement, then the end
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
    }
    Next();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) broken_ = true;  // the reads fail too, and end the call
    }
    Next();
  }

  void OnDone() override { delete this; }

 private:
  // Starts the next acknowledgement, or finishes the call once nothing is left to say.
  void Next() ABSL_LOCKS_EXCLUDED(mu_) {
    enum { kNothing, kWrite, kFinish } action = kNothing;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (!broken_ && applied_ > ack_.applied()) {
        ack_.set_applied(applied_);
        ack_.set_rejected(rejected_);
        writing_ = true;
        action = kWrite;
      } else if (reads_done_) {
        finished_ = true;
        action = kFinish;
      }
    }
    if (action == kWrite) StartWrite(&ack_);
    if (action == kFinish) Finish(grpc::Status::OK);
  }

  JobMetricsAggregator& aggregator_;
  const std::string peer_;
  v1::ReportRequest request_;  // only the read side touches it

  absl::Mutex mu_;
  v1::DeliveryAck ack_;  // under mu_, and not changed while writing_ (gRPC reads it)
  uint64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerReadReactor<v1::ReportRequest>* MetricsSinkService::Report(
    grpc::CallbackServerContext* context, v1::ReportSummary* summary) {
  return new ReportReactor(aggregator_, context->peer(), summary);
}

grpc::ServerBidiReactor<v1::ReportRequest, v1::DeliveryAck>* MetricsSinkService::Deliver(
    grpc::CallbackServerContext* context) {
  return new DeliverReactor(aggregator_, context->peer());
}

}  // namespace kubedl::metrics
