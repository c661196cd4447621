#pragma once
// Serves Prometheus registries on an HttpServer route in the text exposition format:
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   routes["/metrics"] = kubedl::common::MakeMetricsHandler({registry});
//
// The process metrics (process_metrics.h) are appended unless disabled, so every service exposes
// its own CPU, memory, start time and file descriptors.
#include <memory>
#include <vector>

#include "kubedl/common/http_server.h"
#include "prometheus/collectable.h"

namespace kubedl::common {

struct MetricsHandlerOptions {
  bool include_process_metrics = true;
};

HttpHandler MakeMetricsHandler(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                               MetricsHandlerOptions options = {});

}  // namespace kubedl::common
