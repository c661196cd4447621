#include "kubedl/common/metrics_handler.h"

#include "kubedl/common/process_metrics.h"
#include "prometheus/text_serializer.h"

namespace kubedl::common {

HttpHandler MakeMetricsHandler(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                               MetricsHandlerOptions options) {
  if (options.include_process_metrics) {
    collectables.push_back(std::make_shared<ProcessMetricsCollector>());
  }
  return [collectables = std::move(collectables)](const HttpRequest&) {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& collectable : collectables) {
      auto collected = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(collected.begin()),
                      std::make_move_iterator(collected.end()));
    }
    return HttpResponse{.status = 200,
                        .content_type = "text/plain; version=0.0.4; charset=utf-8",
                        .body = prometheus::TextSerializer().Serialize(families)};
  };
}

}  // namespace kubedl::common
