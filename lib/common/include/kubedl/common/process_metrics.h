#pragma once
// The standard Prometheus process metrics of the running process, read from /proc/self at
// scrape time: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds, process_max_fds.
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace kubedl::common {

class ProcessMetricsCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace kubedl::common
