#pragma once

#include <cstdint>

#include "kubedl/v1/metrics.pb.h"

namespace kubedl::metrics {

// Where a reconciler sends job events for the metrics service. Send never blocks and never fails
// the caller: a slow or absent metrics service must not slow reconciling. Delivery is best effort,
// at least once; the service deduplicates, so re-sending an event is always safe.
class JobEventSink {
 public:
  virtual ~JobEventSink() = default;

  // Queues the event. Returns false when it was dropped because the buffer is full.
  virtual bool Send(v1::JobEvent event) = 0;

  // Events dropped since construction (for kubedl_reconciler_metrics_events_dropped_total).
  virtual uint64_t DroppedEvents() const = 0;
};

}  // namespace kubedl::metrics
