#pragma once

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace kubedl::common {

// Request metrics of a gRPC server, by method, gathered by an interceptor so that every service
// on the server (the health service too) is measured the same way:
//   grpc_server_handled_total{method, code}   RPCs finished, by status code
//   grpc_server_handling_seconds{method}      RPC start to status (a stream's whole lifetime)
//   grpc_server_msg_received_total{method}    request messages received
// `method` is the RPC's path ("/pkg.Service/Method") when the method exists in this binary,
// else "unknown": names a client makes up add no series.
class GrpcServerMetrics final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // Hands the server builder a factory that forwards to this object, which must outlive the
  // server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Factory();

 private:
  friend class GrpcServerMetricsInterceptor;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
  prometheus::Family<prometheus::Counter>& received_;
};

}  // namespace kubedl::common
