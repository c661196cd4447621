// The real kubedl-metrics process driven through the real client library over loopback gRPC,
// checked by scraping /metrics over HTTP.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "kubedl/metrics/grpc_job_event_sink.h"
#include "kubedl/metrics/job_events.h"
#include "test/integration/metrics/metrics_process.h"

namespace kubedl::metrics {
namespace {

using testing::MetricsProcess;

std::string Series(const std::string& name, const std::map<std::string, std::string>& labels) {
  std::string s = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {  // prometheus-cpp writes labels sorted by name
    s += (first ? "" : ",") + k + "=\"" + v + "\"";
    first = false;
  }
  return s + "}";
}

// The live jobs the fake reconciler reports in its snapshots.
class LiveJobs {
 public:
  void Set(const v1::JobKey& job, const std::string& state) {
    absl::MutexLock lock(&mu_);
    jobs_[job.uid()] = MakeLiveJob(job, state);
  }
  void Remove(const std::string& uid) {
    absl::MutexLock lock(&mu_);
    jobs_.erase(uid);
  }
  std::vector<v1::LiveJob> List() const {
    absl::MutexLock lock(&mu_);
    std::vector<v1::LiveJob> out;
    for (const auto& [uid, job] : jobs_) out.push_back(job);
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, v1::LiveJob> jobs_;
};

class MetricsServiceIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    process_ = std::make_unique<MetricsProcess>(KUBEDL_METRICS_BINARY,
                                                testing::FreeLoopbackPort(),
                                                testing::FreeLoopbackPort());
    ASSERT_TRUE(process_->Start()) << "kubedl-metrics did not become ready";
  }

  std::unique_ptr<GrpcJobEventSink> NewSink(const std::string& reconciler_id) {
    return std::make_unique<GrpcJobEventSink>(GrpcJobEventSinkOptions{
        .target = absl::StrCat("127.0.0.1:", process_->grpc_port()),
        .reconciler_id = reconciler_id,
        .buffer_capacity = 10000,
        .initial_backoff = absl::Milliseconds(50),
        .max_backoff = absl::Milliseconds(400),
        .live_jobs = [this] { return live_.List(); },
        .snapshot_interval = absl::Milliseconds(500),
        .snapshot_part_size = 2});  // several parts per snapshot
  }

  // Scrapes until `ok` holds or the deadline passes; returns the last scrape.
  std::map<std::string, double> ScrapeUntil(
      const std::function<bool(const std::map<std::string, double>&)>& ok,
      absl::Duration timeout = absl::Seconds(15)) {
    std::map<std::string, double> scraped;
    const absl::Time deadline = absl::Now() + timeout;
    do {
      scraped = process_->Scrape();
      if (ok(scraped)) break;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return scraped;
  }

  // One job's events, as a reconciler reports them over its life. Times are from "now".
  struct ScriptedJob {
    v1::JobKey key;
    std::vector<v1::JobEvent> events;
  };
  ScriptedJob Script(const std::string& uid, const std::string& kind, const std::string& ending) {
    ScriptedJob job{MakeJobKey(uid, kind, "it", "job-" + uid), {}};
    const absl::Time c = base_;
    auto& e = job.events;
    e.push_back(JobCreatedEvent(job.key, c));
    if (ending == "pending") return job;
    e.push_back(PodReadyEvent(job.key, c, c + absl::Seconds(2), uid + "-worker-0"));
    e.push_back(AllPodsRunningEvent(job.key, c, c + absl::Seconds(4), 2));
    e.push_back(ConditionChangedEvent(job.key, c, c + absl::Seconds(4), "Running", "True", "R",
                                      c + absl::Seconds(1)));
    if (ending == "succeed") {
      e.push_back(PodExitedEvent(job.key, c, c + absl::Seconds(30), "w0", uid + "-p0", 0));
      e.push_back(ConditionChangedEvent(job.key, c, c + absl::Seconds(30), "Succeeded", "True",
                                        "S", c + absl::Seconds(1)));
    } else if (ending == "fail") {
      e.push_back(PodExitedEvent(job.key, c, c + absl::Seconds(20), "w0", uid + "-p0", 1));
      e.push_back(ConditionChangedEvent(job.key, c, c + absl::Seconds(20), "Failed", "True", "F",
                                        c + absl::Seconds(1)));
    } else if (ending == "restart") {
      for (int i = 0; i < 2; ++i) {
        e.push_back(PodExitedEvent(job.key, c, c + absl::Seconds(10 + 10 * i), "w0",
                                   absl::StrCat(uid, "-p", i), 137));
        e.push_back(ConditionChangedEvent(job.key, c, c + absl::Seconds(11 + 10 * i),
                                          "Restarting", "True", "X"));
      }
    } else if (ending == "delete") {
      e.push_back(JobDeletedEvent(job.key, c, c + absl::Seconds(8)));
    }
    return job;
  }

  static void SendAll(GrpcJobEventSink& sink, const std::vector<ScriptedJob>& jobs) {
    for (const auto& job : jobs) {
      for (const auto& event : job.events) ASSERT_TRUE(sink.Send(event));
    }
  }

  const absl::Time base_ = absl::Now() - absl::Minutes(5);
  LiveJobs live_;
  std::unique_ptr<MetricsProcess> process_;
};

TEST_F(MetricsServiceIntegrationTest, ScriptedJobMixIsCountedExactlyDespiteDuplicatesAndResends) {
  const std::vector<ScriptedJob> jobs = {
      Script("s1", "TFJob", "succeed"),      Script("s2", "TFJob", "succeed"),
      Script("s3", "PyTorchJob", "succeed"), Script("f1", "TFJob", "fail"),
      Script("r1", "TFJob", "restart"),      Script("d1", "TFJob", "delete"),
      Script("p1", "TFJob", "pending"),
  };
  live_.Set(jobs[4].key, "Running");
  live_.Set(jobs[6].key, "Created");
  auto sink = NewSink("reconciler-a");
  SendAll(*sink, jobs);
  SendAll(*sink, jobs);  // every event twice
  ASSERT_TRUE(sink->Flush(absl::Seconds(10)));
  // A restarted reconciler (new process, new id) re-sends everything from its fresh cache.
  sink.reset();
  auto restarted = NewSink("reconciler-a-restarted");
  SendAll(*restarted, jobs);
  ASSERT_TRUE(restarted->Flush(absl::Seconds(10)));

  const std::map<std::string, std::string> tf = {{"kind", "TFJob"}, {"namespace", "it"}};
  const std::map<std::string, std::string> pt = {{"kind", "PyTorchJob"}, {"namespace", "it"}};
  const size_t total_events = 3 * (6 + 6 + 6 + 6 + 8 + 5 + 1);
  auto m = ScrapeUntil([&](const auto& s) {
    return s.contains("kubedl_metrics_events_total{outcome=\"unchanged\"}") &&
           s.at("kubedl_metrics_events_total{outcome=\"applied\"}") +
                   s.at("kubedl_metrics_events_total{outcome=\"unchanged\"}") ==
               total_events &&
           s.contains(Series("kubedl_jobs_running", tf));
  });
  EXPECT_EQ(m[Series("kubedl_jobs_created_total", tf)], 6);
  EXPECT_EQ(m[Series("kubedl_jobs_created_total", pt)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_successful_total", tf)], 2);
  EXPECT_EQ(m[Series("kubedl_jobs_successful_total", pt)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_failed_total", tf)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_restarted_total", tf)], 2);
  EXPECT_EQ(m[Series("kubedl_jobs_deleted_total", tf)], 1);
  EXPECT_EQ(m[Series("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "0"}})], 2);
  EXPECT_EQ(m[Series("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "1"}})], 1);
  EXPECT_EQ(m[Series("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "137"}})], 2);
  // One observation per job that reached the stage, with the scripted values.
  EXPECT_EQ(m[Series("kubedl_jobs_first_pod_launch_delay_seconds_count", tf)], 5);
  EXPECT_EQ(m[Series("kubedl_jobs_first_pod_launch_delay_seconds_sum", tf)], 5 * 2);
  EXPECT_EQ(m[Series("kubedl_jobs_all_pods_launch_delay_seconds_count", tf)], 5);
  EXPECT_EQ(m[Series("kubedl_jobs_all_pods_launch_delay_seconds_sum", tf)], 5 * 4);
  EXPECT_EQ(m[Series("kubedl_jobs_first_pod_launch_delay_seconds_count", pt)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_duration_seconds_count", tf)], 3);
  EXPECT_EQ(m[Series("kubedl_jobs_duration_seconds_sum", tf)], 29 + 29 + 19);
  EXPECT_EQ(m[Series("kubedl_jobs_duration_seconds_count", pt)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_running", tf)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_pending", tf)], 1);
  EXPECT_EQ(m["kubedl_metrics_events_total{outcome=\"rejected\"}"], 0);
  // The service's own request metrics are on the same page.
  EXPECT_GE(m[Series("grpc_server_msg_received_total",
                     {{"method", "/kubedl.v1.MetricsSink/Deliver"}})],
            static_cast<double>(total_events));
  EXPECT_GE(m[Series("grpc_server_handled_total",
                     {{"method", "/kubedl.v1.MetricsSink/Deliver"}, {"code", "OK"}})],
            1);
}

TEST_F(MetricsServiceIntegrationTest, KilledAndRestartedServiceNeverBlocksSendAndGaugesRecover) {
  const std::map<std::string, std::string> tf = {{"kind", "TFJob"}, {"namespace", "it"}};
  const std::vector<ScriptedJob> before = {Script("a1", "TFJob", "succeed"),
                                           Script("a2", "TFJob", "restart"),
                                           Script("a3", "TFJob", "pending")};
  live_.Set(before[1].key, "Running");
  live_.Set(before[2].key, "Created");
  auto sink = NewSink("reconciler-k");
  SendAll(*sink, before);
  ASSERT_TRUE(sink->Flush(absl::Seconds(10)));
  auto m = ScrapeUntil([&](const auto& s) {
    return s.contains(Series("kubedl_jobs_running", tf)) &&
           s.contains(Series("kubedl_jobs_successful_total", tf)) &&
           s.at(Series("kubedl_jobs_successful_total", tf)) == 1;
  });
  ASSERT_EQ(m[Series("kubedl_jobs_running", tf)], 1);
  ASSERT_EQ(m[Series("kubedl_jobs_pending", tf)], 1);
  const uint64_t streams_before = sink->StreamsOpened();

  process_->Kill();
  absl::SleepFor(absl::Milliseconds(300));  // let the client's transport see the closed socket

  // While the service is down the reconciler goes on: a3 starts, a2 succeeds, new jobs arrive.
  const std::vector<ScriptedJob> during = {Script("b1", "TFJob", "succeed"),
                                           Script("b2", "TFJob", "fail"),
                                           Script("b3", "TFJob", "pending"),
                                           Script("b4", "TFJob", "pending")};
  live_.Set(before[2].key, "Running");
  live_.Remove(before[1].key.uid());
  live_.Set(during[2].key, "Created");
  live_.Set(during[3].key, "Created");
  absl::Duration slowest_send;
  int sent = 0;
  for (int round = 0; round < 50; ++round) {  // ~1 s of sending into the void
    for (const auto& job : during) {
      for (const auto& event : job.events) {
        const absl::Time start = absl::Now();
        EXPECT_TRUE(sink->Send(event));
        slowest_send = std::max(slowest_send, absl::Now() - start);
        ++sent;
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_LT(slowest_send, absl::Milliseconds(10)) << "over " << sent << " sends";
  std::printf("slowest of %d Send() calls while the service was down: %s\n", sent,
              absl::FormatDuration(slowest_send).c_str());
  EXPECT_EQ(sink->DroppedEvents(), 0u);

  ASSERT_TRUE(process_->Start()) << "kubedl-metrics did not restart";
  ASSERT_TRUE(sink->Flush(absl::Seconds(15))) << "client did not reconnect and drain";
  EXPECT_GT(sink->StreamsOpened(), streams_before);

  // A fresh process counts from zero: exactly what was sent after the restart, once.
  m = ScrapeUntil([&](const auto& s) {
    return s.contains(Series("kubedl_jobs_pending", tf)) &&
           s.at(Series("kubedl_jobs_pending", tf)) == 2 &&
           s.contains(Series("kubedl_jobs_created_total", tf)) &&
           s.at(Series("kubedl_jobs_created_total", tf)) == 4;
  });
  EXPECT_EQ(m[Series("kubedl_jobs_created_total", tf)], 4);
  EXPECT_EQ(m[Series("kubedl_jobs_successful_total", tf)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_failed_total", tf)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_first_pod_launch_delay_seconds_count", tf)], 2);
  EXPECT_EQ(m[Series("kubedl_jobs_duration_seconds_count", tf)], 2);
  // The gauges come from the snapshot the client sends on reconnecting.
  EXPECT_EQ(m[Series("kubedl_jobs_running", tf)], 1);
  EXPECT_EQ(m[Series("kubedl_jobs_pending", tf)], 2);
}

TEST_F(MetricsServiceIntegrationTest, HealthEndpointsAnswer) {
  EXPECT_EQ(testing::HttpGet(process_->http_port(), "/healthz").status, 200);
  EXPECT_EQ(testing::HttpGet(process_->http_port(), "/readyz").status, 200);
}

}  // namespace
}  // namespace kubedl::metrics
