#include "services/metrics/metrics_sink_service.h"

#include "glog/logging.h"
#include "kubedl/common/error_barrier.h"

namespace kubedl::metrics {
namespace {

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
    absl::Status status = common::StatusOfCall([&] {
      switch (request_.payload_case()) {
        case v1::ReportRequest::kEvent:
          return aggregator_.Apply(request_.event());
        case v1::ReportRequest::kSnapshot:
          return aggregator_.Apply(request_.snapshot());
        case v1::ReportRequest::PAYLOAD_NOT_SET:
          break;
      }
      return absl::InvalidArgumentError("report message without a payload");
    });
    if (status.ok()) {
      summary_->set_accepted(summary_->accepted() + 1);
    } else {
      summary_->set_rejected(summary_->rejected() + 1);
      LOG_EVERY_N(WARNING, 100) << "rejected a report message from " << peer_ << ": " << status
                                << " (" << google::COUNTER << " so far on this server)";
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

}  // namespace

grpc::ServerReadReactor<v1::ReportRequest>* MetricsSinkService::Report(
    grpc::CallbackServerContext* context, v1::ReportSummary* summary) {
  return new ReportReactor(aggregator_, context->peer(), summary);
}

}  // namespace kubedl::metrics
