#pragma once

#include <map>
#include <optional>
#include <string>

#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace kubedl::metrics::testing {

// Reads one series out of a prometheus-cpp registry, as a scrape would see it.
class RegistryReader {
 public:
  explicit RegistryReader(const prometheus::Registry& registry) : registry_(registry) {}

  // The series of `family` whose labels equal `labels` exactly; nullopt when absent.
  std::optional<prometheus::ClientMetric> Find(const std::string& family,
                                               const std::map<std::string, std::string>& labels)
      const {
    for (const prometheus::MetricFamily& f : registry_.Collect()) {
      if (f.name != family) continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        std::map<std::string, std::string> got;
        for (const auto& l : m.label) got[l.name] = l.value;
        if (got == labels) return m;
      }
    }
    return std::nullopt;
  }

  // Counter or gauge value; 0 when the series does not exist.
  double Value(const std::string& family, const std::map<std::string, std::string>& labels) const {
    auto m = Find(family, labels);
    if (!m) return 0;
    return m->counter.value + m->gauge.value;
  }

  uint64_t HistogramCount(const std::string& family,
                          const std::map<std::string, std::string>& labels) const {
    auto m = Find(family, labels);
    return m ? m->histogram.sample_count : 0;
  }

  double HistogramSum(const std::string& family,
                      const std::map<std::string, std::string>& labels) const {
    auto m = Find(family, labels);
    return m ? m->histogram.sample_sum : 0;
  }

  // Every label name used by any series of `family`.
  std::map<std::string, int> LabelNames(const std::string& family) const {
    std::map<std::string, int> names;
    for (const prometheus::MetricFamily& f : registry_.Collect()) {
      if (f.name != family) continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        for (const auto& l : m.label) ++names[l.name];
      }
    }
    return names;
  }

 private:
  const prometheus::Registry& registry_;
};

}  // namespace kubedl::metrics::testing
