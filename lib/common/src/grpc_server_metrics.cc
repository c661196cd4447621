#include "kubedl/common/grpc_server_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"

namespace kubedl::common {
namespace {

// gRPC's status code names, as grpc_server_handled_total's `code` label.
const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  // Unary calls take microseconds to milliseconds; streams live for minutes to days.
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300, 3600, 86400};
  return *buckets;
}

// The `method` label: the RPC's path when the server could serve it, else "unknown". A client
// may send any path; each distinct one would otherwise become a series that lives forever.
std::string MethodLabel(const char* method) {
  if (method == nullptr) return "unknown";
  const absl::string_view path(method);
  // Services built on protobuf are found in the generated pool ("/pkg.Service/Method" is the
  // method "pkg.Service.Method"); gRPC's health service is not built that way.
  static constexpr absl::string_view kHealth[] = {"/grpc.health.v1.Health/Check",
                                                  "/grpc.health.v1.Health/Watch"};
  for (absl::string_view known : kHealth) {
    if (path == known) return std::string(path);
  }
  const size_t slash = path.rfind('/');
  if (path.size() < 4 || path[0] != '/' || slash == 0 || slash == absl::string_view::npos ||
      slash + 1 == path.size()) {
    return "unknown";
  }
  const std::string full_name =
      absl::StrCat(path.substr(1, slash - 1), ".", path.substr(slash + 1));
  if (google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name) == nullptr) {
    return "unknown";
  }
  return std::string(path);
}

class ForwardingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ForwardingFactory(GrpcServerMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return metrics_.CreateServerInterceptor(info);
  }

 private:
  GrpcServerMetrics& metrics_;
};

}  // namespace

// One per RPC; gRPC deletes it when the RPC is done.
class GrpcServerMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcServerMetricsInterceptor(GrpcServerMetrics& metrics, std::string method)
      : metrics_(metrics),
        method_(std::move(method)),
        received_(metrics.received_.Add({{"method", method_}})),
        start_(absl::Now()) {}

  // An RPC the client cancelled never sends a status: count it here.
  ~GrpcServerMetricsInterceptor() override {
    if (!recorded_) RecordDone(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    // The read that finds the end of a stream also passes here, without a message.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      received_.Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      RecordDone(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void RecordDone(grpc::StatusCode code) {
    recorded_ = true;
    metrics_.handled_.Add({{"method", method_}, {"code", CodeName(code)}}).Increment();
    metrics_.handling_seconds_.Add({{"method", method_}}, LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(absl::Now() - start_));
  }

  GrpcServerMetrics& metrics_;
  const std::string method_;
  prometheus::Counter& received_;
  const absl::Time start_;
  bool recorded_ = false;
};

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry)
    : handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("gRPC requests finished, by method and status code.")
                   .Register(registry)),
      handling_seconds_(prometheus::BuildHistogram()
                            .Name("grpc_server_handling_seconds")
                            .Help("gRPC request latency by method (a stream's whole lifetime).")
                            .Register(registry)),
      received_(prometheus::BuildCounter()
                    .Name("grpc_server_msg_received_total")
                    .Help("gRPC request messages received, by method.")
                    .Register(registry)) {}

grpc::experimental::Interceptor* GrpcServerMetrics::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new GrpcServerMetricsInterceptor(*this, MethodLabel(info->method()));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcServerMetrics::Factory() {
  return std::make_unique<ForwardingFactory>(*this);
}

}  // namespace kubedl::common
