#include "kubedl/common/metrics_handler.h"

#include <ctime>

#include "kubedl/common/process_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace kubedl::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsHandlerTest, ServesTheRegistryAndTheProcessMetricsInTextFormat) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("demo_requests_total").Help("x").Register(*registry)
      .Add({{"code", "200"}}).Increment(3);
  HttpResponse res = MakeMetricsHandler({registry})(HttpRequest{});
  EXPECT_EQ(res.status, 200);
  EXPECT_THAT(res.content_type, HasSubstr("version=0.0.4"));
  EXPECT_THAT(res.body, HasSubstr("demo_requests_total{code=\"200\"} 3"));
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_start_time_seconds ", "process_open_fds "}) {
    EXPECT_THAT(res.body, HasSubstr(name));
  }
}

TEST(MetricsHandlerTest, ProcessMetricsCanBeLeftOut) {
  auto registry = std::make_shared<prometheus::Registry>();
  HttpResponse res =
      MakeMetricsHandler({registry}, {.include_process_metrics = false})(HttpRequest{});
  EXPECT_THAT(res.body, Not(HasSubstr("process_")));
}

TEST(ProcessMetricsTest, ResidentMemoryAndStartTimeArePlausible) {
  auto families = ProcessMetricsCollector().Collect();
  double rss = 0, start = 0, fds = 0;
  for (const auto& f : families) {
    if (f.name == "process_resident_memory_bytes") rss = f.metric[0].gauge.value;
    if (f.name == "process_start_time_seconds") start = f.metric[0].gauge.value;
    if (f.name == "process_open_fds") fds = f.metric[0].gauge.value;
  }
  EXPECT_GT(rss, 1024 * 1024);
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(start, now - 3600);
  EXPECT_LE(start, now + 1);
  EXPECT_GE(fds, 3);
}

}  // namespace
}  // namespace kubedl::common
