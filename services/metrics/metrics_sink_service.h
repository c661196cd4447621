#pragma once

#include "kubedl/v1/metrics.grpc.pb.h"
#include "services/metrics/job_metrics_aggregator.h"

namespace kubedl::metrics {

// The MetricsSink gRPC service: a thin layer that feeds every message of a Report or Deliver stream
// to the aggregator. A malformed message is counted as rejected and the stream goes on, so one bad
// event never costs a reconciler its connection.
class MetricsSinkService final : public v1::MetricsSink::CallbackService {
 public:
  explicit MetricsSinkService(JobMetricsAggregator& aggregator) : aggregator_(aggregator) {}

  grpc::ServerReadReactor<v1::ReportRequest>* Report(grpc::CallbackServerContext* context,
                                                     v1::ReportSummary* summary) override;
  grpc::ServerBidiReactor<v1::ReportRequest, v1::DeliveryAck>* Deliver(
      grpc::CallbackServerContext* context) override;

 private:
  JobMetricsAggregator& aggregator_;
};

}  // namespace kubedl::metrics
