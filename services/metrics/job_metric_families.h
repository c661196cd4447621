#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace kubedl::metrics {

// The Prometheus families of SPEC section 7, registered in one registry. Series are looked up
// once per (kind, namespace) and cached, because prometheus-cpp's Family::Add hashes a label map
// on every call.
class JobMetricFamilies {
 public:
  // The series of one (kind, namespace).
  struct JobSeries {
    prometheus::Counter* created;
    prometheus::Counter* deleted;
    prometheus::Counter* successful;
    prometheus::Counter* failed;
    prometheus::Counter* restarted;
    prometheus::Histogram* first_pod_launch_delay;
    prometheus::Histogram* all_pods_launch_delay;
    prometheus::Histogram* duration;
  };

  // 0.5 s to 1 h: the range of pod start-up and training-job waits (SPEC section 7).
  static const prometheus::Histogram::BucketBoundaries& Buckets();

  explicit JobMetricFamilies(prometheus::Registry& registry);

  JobSeries& Series(const std::string& kind, const std::string& ns);
  prometheus::Counter& ExitCode(const std::string& kind, int exit_code);

  // The gauges; a series is removed when it drops to zero so that namespaces that are gone do not
  // accumulate forever.
  void AddRunning(const std::string& kind, const std::string& ns, double delta);
  void AddPending(const std::string& kind, const std::string& ns, double delta);

  // Removes every series of `ns` (a namespace label value) for each of `kinds` from the
  // registry, so it no longer appears on /metrics. A later Series() starts it again from zero.
  void RemoveNamespace(const std::string& ns, const std::vector<std::string>& kinds);

 private:
  using Key = std::pair<std::string, std::string>;
  void AddToGauge(prometheus::Family<prometheus::Gauge>& family,
                  absl::flat_hash_map<Key, prometheus::Gauge*>& cache, const std::string& kind,
                  const std::string& ns, double delta);

  prometheus::Family<prometheus::Counter>& created_;
  prometheus::Family<prometheus::Counter>& deleted_;
  prometheus::Family<prometheus::Counter>& successful_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Family<prometheus::Counter>& restarted_;
  prometheus::Family<prometheus::Gauge>& running_;
  prometheus::Family<prometheus::Gauge>& pending_;
  prometheus::Family<prometheus::Histogram>& first_pod_launch_delay_;
  prometheus::Family<prometheus::Histogram>& all_pods_launch_delay_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& exit_codes_;

  absl::flat_hash_map<Key, JobSeries> series_;
  absl::flat_hash_map<Key, prometheus::Gauge*> running_series_;
  absl::flat_hash_map<Key, prometheus::Gauge*> pending_series_;
  absl::flat_hash_map<std::pair<std::string, int>, prometheus::Counter*> exit_code_series_;
};

}  // namespace kubedl::metrics
