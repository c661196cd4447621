#include "services/metrics/job_metrics_aggregator.h"

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kubedl/common/fake_clock.h"
#include "kubedl/metrics/job_events.h"
#include "services/metrics/label_rules.h"
#include "test/services/metrics/registry_reader.h"

namespace kubedl::metrics {
namespace {

using common::FakeClock;
using testing::RegistryReader;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
const std::map<std::string, std::string> kTfDefault = {{"kind", "TFJob"}, {"namespace", "team-a"}};

class JobMetricsAggregatorTest : public ::testing::Test {
 protected:
  explicit JobMetricsAggregatorTest(AggregatorOptions options = {}) : options_(options) {}

  JobMetricsAggregator& aggregator() {
    if (!aggregator_) {
      aggregator_ = std::make_unique<JobMetricsAggregator>(registry_, clock_, options_);
    }
    return *aggregator_;
  }

  // Events are stamped relative to kT0; the aggregator's clock starts a minute later.
  static v1::JobKey Job(const std::string& uid, const std::string& kind = "TFJob",
                        const std::string& ns = "team-a") {
    return MakeJobKey(uid, kind, ns, "job-" + uid);
  }
  void ApplyOk(const v1::JobEvent& event) { ASSERT_TRUE(aggregator().Apply(event).ok()); }
  double Value(const std::string& family,
               const std::map<std::string, std::string>& labels = kTfDefault) {
    return reader_.Value(family, labels);
  }
  uint64_t Count(const std::string& family,
                 const std::map<std::string, std::string>& labels = kTfDefault) {
    return reader_.HistogramCount(family, labels);
  }
  double Sum(const std::string& family,
             const std::map<std::string, std::string>& labels = kTfDefault) {
    return reader_.HistogramSum(family, labels);
  }
  double Events(const std::string& outcome) {
    return reader_.Value("kubedl_metrics_events_total", {{"outcome", outcome}});
  }
  static v1::JobEvent Succeeded(const v1::JobKey& job, absl::Duration after_creation,
                                absl::Duration started_after = absl::Seconds(10)) {
    return ConditionChangedEvent(job, kT0, kT0 + after_creation, "Succeeded", "True",
                                 "TFJobSucceeded", kT0 + started_after);
  }
  static v1::JobEvent Failed(const v1::JobKey& job, absl::Duration after_creation) {
    return ConditionChangedEvent(job, kT0, kT0 + after_creation, "Failed", "True", "TFJobFailed",
                                 kT0 + absl::Seconds(10));
  }
  static v1::JobEvent Restarting(const v1::JobKey& job, absl::Duration after_creation) {
    return ConditionChangedEvent(job, kT0, kT0 + after_creation, "Restarting", "True",
                                 "TFJobRestarting");
  }

  AggregatorOptions options_;
  prometheus::Registry registry_;
  FakeClock clock_{kT0 + absl::Minutes(1)};
  RegistryReader reader_{registry_};
  std::unique_ptr<JobMetricsAggregator> aggregator_;
};

TEST_F(JobMetricsAggregatorTest, DuplicateCreatedEventIsCountedOnce) {
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  ApplyOk(JobCreatedEvent(Job("b"), kT0));
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 2);
  EXPECT_EQ(Events("applied"), 2);
  EXPECT_EQ(Events("unchanged"), 1);
}

TEST_F(JobMetricsAggregatorTest, DuplicateSucceededEventIsCountedOnce) {
  ApplyOk(Succeeded(Job("a"), absl::Seconds(40)));
  ApplyOk(Succeeded(Job("a"), absl::Seconds(40)));
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 1);
  EXPECT_EQ(Count("kubedl_jobs_duration_seconds"), 1u);
  EXPECT_DOUBLE_EQ(Sum("kubedl_jobs_duration_seconds"), 30);
}

TEST_F(JobMetricsAggregatorTest, OnlyTheFirstTerminalConditionOfAJobIsCounted) {
  ApplyOk(Failed(Job("a"), absl::Seconds(40)));
  ApplyOk(Succeeded(Job("a"), absl::Seconds(50)));
  EXPECT_EQ(Value("kubedl_jobs_failed_total"), 1);
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 0);
  EXPECT_EQ(Count("kubedl_jobs_duration_seconds"), 1u);
}

TEST_F(JobMetricsAggregatorTest, ConditionThatIsNotTrueCountsNothing) {
  ApplyOk(ConditionChangedEvent(Job("a"), kT0, kT0, "Succeeded", "False", "x"));
  ApplyOk(ConditionChangedEvent(Job("a"), kT0, kT0, "Restarting", "Unknown", "x"));
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 0);
  EXPECT_EQ(Value("kubedl_jobs_restarted_total"), 0);
}

TEST_F(JobMetricsAggregatorTest, PodReadyBeforeJobCreatedUsesTheCreationTimeInTheEvent) {
  ApplyOk(PodReadyEvent(Job("a"), kT0, kT0 + absl::Seconds(12), "a-worker-0"));
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 1);
  EXPECT_EQ(Count("kubedl_jobs_first_pod_launch_delay_seconds"), 1u);
  EXPECT_DOUBLE_EQ(Sum("kubedl_jobs_first_pod_launch_delay_seconds"), 12);
}

TEST_F(JobMetricsAggregatorTest, FirstPodLaunchDelayIsObservedOncePerJob) {
  ApplyOk(PodReadyEvent(Job("a"), kT0, kT0 + absl::Seconds(3), "a-worker-0"));
  ApplyOk(PodReadyEvent(Job("a"), kT0, kT0 + absl::Seconds(5), "a-worker-1"));
  ApplyOk(PodReadyEvent(Job("a"), kT0, kT0 + absl::Seconds(3), "a-worker-0"));
  ApplyOk(PodReadyEvent(Job("b"), kT0, kT0 + absl::Seconds(7), "b-worker-0"));
  EXPECT_EQ(Count("kubedl_jobs_first_pod_launch_delay_seconds"), 2u);
  EXPECT_DOUBLE_EQ(Sum("kubedl_jobs_first_pod_launch_delay_seconds"), 3 + 7);
}

TEST_F(JobMetricsAggregatorTest, AllPodsLaunchDelayIsObservedOncePerJob) {
  ApplyOk(AllPodsRunningEvent(Job("a"), kT0, kT0 + absl::Seconds(20), 4));
  ApplyOk(AllPodsRunningEvent(Job("a"), kT0, kT0 + absl::Seconds(90), 4));  // after a restart
  EXPECT_EQ(Count("kubedl_jobs_all_pods_launch_delay_seconds"), 1u);
  EXPECT_DOUBLE_EQ(Sum("kubedl_jobs_all_pods_launch_delay_seconds"), 20);
}

TEST_F(JobMetricsAggregatorTest, DelayBeforeCreationBecauseOfClockSkewIsObservedAsZero) {
  ApplyOk(PodReadyEvent(Job("a"), kT0, kT0 - absl::Milliseconds(300), "a-worker-0"));
  EXPECT_EQ(Count("kubedl_jobs_first_pod_launch_delay_seconds"), 1u);
  EXPECT_DOUBLE_EQ(Sum("kubedl_jobs_first_pod_launch_delay_seconds"), 0);
}

TEST_F(JobMetricsAggregatorTest, JobThatFailedBeforeStartingIsCountedWithoutDuration) {
  ApplyOk(ConditionChangedEvent(Job("a"), kT0, kT0 + absl::Seconds(5), "Failed", "True",
                                "TFJobFailed"));
  EXPECT_EQ(Value("kubedl_jobs_failed_total"), 1);
  EXPECT_EQ(Count("kubedl_jobs_duration_seconds"), 0u);
}

TEST_F(JobMetricsAggregatorTest, EachDistinctRestartingTransitionIsCountedOnce) {
  ApplyOk(Restarting(Job("a"), absl::Seconds(20)));
  ApplyOk(Restarting(Job("a"), absl::Seconds(20)));  // re-sent
  ApplyOk(Restarting(Job("a"), absl::Seconds(35)));  // a second restart
  ApplyOk(Restarting(Job("b"), absl::Seconds(20)));  // same time, another job
  ApplyOk(Restarting(Job("a"), absl::Seconds(35)));
  EXPECT_EQ(Value("kubedl_jobs_restarted_total"), 3);
}

TEST_F(JobMetricsAggregatorTest, ExitCodeIsCountedOncePerPodUid) {
  ApplyOk(PodExitedEvent(Job("a"), kT0, kT0 + absl::Seconds(9), "a-worker-0", "pod-1", 137));
  ApplyOk(PodExitedEvent(Job("a"), kT0, kT0 + absl::Seconds(9), "a-worker-0", "pod-1", 137));
  ApplyOk(PodExitedEvent(Job("a"), kT0, kT0 + absl::Seconds(19), "a-worker-0", "pod-2", 137));
  ApplyOk(PodExitedEvent(Job("a"), kT0, kT0 + absl::Seconds(29), "a-worker-0", "pod-3", 0));
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "137"}}), 2);
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "0"}}), 1);
}

TEST_F(JobMetricsAggregatorTest, ExitCodesOutsideAProcesssRangeShareOneSeries) {
  ApplyOk(PodExitedEvent(Job("a"), kT0, kT0, "p", "pod-1", -1));
  ApplyOk(PodExitedEvent(Job("a"), kT0, kT0, "p", "pod-2", 70000));
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "other"}}), 2);
}

TEST_F(JobMetricsAggregatorTest, DeletedJobIsCountedOnce) {
  ApplyOk(JobDeletedEvent(Job("a"), kT0, kT0 + absl::Seconds(50)));
  ApplyOk(JobDeletedEvent(Job("a"), kT0, kT0 + absl::Seconds(51)));
  EXPECT_EQ(Value("kubedl_jobs_deleted_total"), 1);
}

TEST_F(JobMetricsAggregatorTest, ResendOfAWholeLifecycleAfterAReconcilerRestartCountsNothing) {
  auto lifecycle = [](const v1::JobKey& job) {
    return std::vector<v1::JobEvent>{
        JobCreatedEvent(job, kT0),
        PodReadyEvent(job, kT0, kT0 + absl::Seconds(2), "w0"),
        AllPodsRunningEvent(job, kT0, kT0 + absl::Seconds(4), 2),
        Restarting(job, absl::Seconds(20)),
        PodExitedEvent(job, kT0, kT0 + absl::Seconds(19), "w0", "pod-1", 1),
        Succeeded(job, absl::Seconds(50)),
    };
  };
  for (const auto& e : lifecycle(Job("a"))) ApplyOk(e);
  const double applied = Events("applied");
  for (const auto& e : lifecycle(Job("a"))) ApplyOk(e);
  EXPECT_EQ(Events("applied"), applied);
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 1);
  EXPECT_EQ(Value("kubedl_jobs_restarted_total"), 1);
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 1);
  EXPECT_EQ(Count("kubedl_jobs_first_pod_launch_delay_seconds"), 1u);
  EXPECT_EQ(Count("kubedl_jobs_all_pods_launch_delay_seconds"), 1u);
  EXPECT_EQ(Count("kubedl_jobs_duration_seconds"), 1u);
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "1"}}), 1);
}

TEST_F(JobMetricsAggregatorTest, SeriesAreLabelledByKindAndNamespaceOnly) {
  ApplyOk(JobCreatedEvent(Job("a", "PyTorchJob", "ns1"), kT0));
  ApplyOk(PodReadyEvent(Job("a", "PyTorchJob", "ns1"), kT0, kT0 + absl::Seconds(1), "w0"));
  ApplyOk(PodReadyEvent(Job("b", "PyTorchJob", "ns2"), kT0, kT0 + absl::Seconds(1), "w0"));
  for (const char* family : {"kubedl_jobs_created_total",
                             "kubedl_jobs_first_pod_launch_delay_seconds"}) {
    const auto names = reader_.LabelNames(family);
    EXPECT_EQ(names.size(), 2u) << family;
    EXPECT_TRUE(names.contains("kind") && names.contains("namespace")) << family;
  }
  EXPECT_EQ(Count("kubedl_jobs_first_pod_launch_delay_seconds",
                  {{"kind", "PyTorchJob"}, {"namespace", "ns2"}}),
            1u);
}

TEST_F(JobMetricsAggregatorTest, HistogramBucketsSpanHalfASecondToAnHour) {
  const auto& buckets = JobMetricFamilies::Buckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_DOUBLE_EQ(buckets.front(), 0.5);
  EXPECT_DOUBLE_EQ(buckets.back(), 3600);
  EXPECT_TRUE(std::is_sorted(buckets.begin(), buckets.end()));
}

TEST_F(JobMetricsAggregatorTest, MalformedEventsAreRejectedAndCounted) {
  v1::JobEvent no_uid = JobCreatedEvent(Job(""), kT0);
  v1::JobEvent unknown_kind = JobCreatedEvent(Job("a", "MXJob"), kT0);
  v1::JobEvent no_time = JobCreatedEvent(Job("a"), kT0);
  no_time.clear_time();
  v1::JobEvent no_event = JobCreatedEvent(Job("a"), kT0);
  no_event.clear_created();
  v1::JobEvent ready_without_creation = PodReadyEvent(Job("a"), kT0, kT0, "w0");
  ready_without_creation.clear_job_created();
  v1::JobEvent exit_without_pod = PodExitedEvent(Job("a"), kT0, kT0, "w0", "", 1);
  for (const auto* e : {&no_uid, &unknown_kind, &no_time, &no_event, &ready_without_creation,
                        &exit_without_pod}) {
    EXPECT_EQ(aggregator().Apply(*e).code(), absl::StatusCode::kInvalidArgument)
        << e->ShortDebugString();
  }
  EXPECT_EQ(Events("rejected"), 6);
  EXPECT_EQ(aggregator().TrackedJobs(), 0u);
}

class RetentionTest : public JobMetricsAggregatorTest {
 protected:
  RetentionTest() : JobMetricsAggregatorTest({.retention = absl::Hours(1), .max_jobs = 3}) {}
};

TEST_F(RetentionTest, FinishedJobIsForgottenAfterRetentionAndLiveJobIsKept) {
  ApplyOk(JobCreatedEvent(Job("live"), kT0));
  ApplyOk(Succeeded(Job("done"), absl::Seconds(30)));
  clock_.Advance(absl::Minutes(59));
  aggregator().Housekeep();
  EXPECT_EQ(aggregator().TrackedJobs(), 2u);
  clock_.Advance(absl::Minutes(2));
  aggregator().Housekeep();
  EXPECT_EQ(aggregator().TrackedJobs(), 1u);
  EXPECT_EQ(reader_.Value("kubedl_metrics_forgotten_jobs_total", {{"reason", "retention"}}), 1);
  EXPECT_EQ(reader_.Value("kubedl_metrics_tracked_jobs", {}), 1);
}

TEST_F(RetentionTest, ResendForAForgottenJobIsDroppedAsStale) {
  // A live job keeps the namespace's series on the page after "a" is forgotten.
  ApplyOk(JobCreatedEvent(Job("keeper"), kT0));
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  ApplyOk(Succeeded(Job("a"), absl::Seconds(30)));
  clock_.Advance(absl::Hours(2));
  aggregator().Housekeep();
  ASSERT_EQ(aggregator().TrackedJobs(), 1u);
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  ApplyOk(Succeeded(Job("a"), absl::Seconds(30)));
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 2);
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 1);
  EXPECT_EQ(Events("stale"), 2);
  EXPECT_EQ(aggregator().TrackedJobs(), 1u);
}

TEST_F(RetentionTest, LateDeleteOfAForgottenJobIsCountedButItsOldEventsStayStale) {
  ApplyOk(JobCreatedEvent(Job("keeper"), kT0));  // keeps team-a's series on the page
  ApplyOk(Succeeded(Job("a"), absl::Seconds(30)));
  clock_.Advance(absl::Hours(2));
  aggregator().Housekeep();
  // Deleted much later (ttlSecondsAfterFinished): a new transition, counted.
  ApplyOk(JobDeletedEvent(Job("a"), kT0, kT0 + absl::Hours(2)));
  // The reconciler then re-sends the old success with it: not counted again.
  ApplyOk(Succeeded(Job("a"), absl::Seconds(30)));
  EXPECT_EQ(Value("kubedl_jobs_deleted_total"), 1);
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 1);
}

TEST_F(RetentionTest, AtCapacityTheOldestFinishedJobIsForgottenFirst) {
  ApplyOk(JobCreatedEvent(Job("live-1"), kT0));
  ApplyOk(Succeeded(Job("done"), absl::Seconds(30)));
  ApplyOk(JobCreatedEvent(Job("live-2"), kT0));
  ApplyOk(JobCreatedEvent(Job("live-3"), kT0));  // over capacity: "done" goes
  EXPECT_EQ(aggregator().TrackedJobs(), 3u);
  EXPECT_EQ(reader_.Value("kubedl_metrics_forgotten_jobs_total", {{"reason", "capacity"}}), 1);
  ApplyOk(JobCreatedEvent(Job("live-1"), kT0));  // still remembered: not counted again
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 3);
}

TEST_F(RetentionTest, AtCapacityWithNoFinishedJobTheOldestJobIsForgotten) {
  for (const char* uid : {"a", "b", "c", "d"}) ApplyOk(JobCreatedEvent(Job(uid), kT0));
  EXPECT_EQ(aggregator().TrackedJobs(), 3u);
  ApplyOk(JobCreatedEvent(Job("d"), kT0));
  ApplyOk(JobCreatedEvent(Job("b"), kT0));
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 4);
  // The documented cost of the cap: "a" is forgotten, so its re-send counts again.
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 5);
}

TEST_F(RetentionTest, MemoryStaysBoundedUnderAStreamOfShortJobs) {
  for (int i = 0; i < 5000; ++i) {
    const v1::JobKey job = Job("j" + std::to_string(i));
    ApplyOk(JobCreatedEvent(job, kT0));
    ApplyOk(Succeeded(job, absl::Seconds(30)));
    if (i % 100 == 0) aggregator().Housekeep();
  }
  EXPECT_LE(aggregator().TrackedJobs(), 3u);
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 5000);
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 5000);
}

TEST_F(JobMetricsAggregatorTest, EventOlderThanRetentionForAnUnknownJobIsStale) {
  ApplyOk(JobCreatedEvent(Job("a"), kT0 - absl::Hours(7)));  // default retention is 1h
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 0);
  EXPECT_EQ(Events("stale"), 1);
}

TEST_F(JobMetricsAggregatorTest, ConcurrentDuplicatesFromManyStreamsAreCountedExactlyOnce) {
  JobMetricsAggregator& shared = aggregator();  // built before the threads share it
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&shared] {
      for (int i = 0; i < 500; ++i) {
        const v1::JobKey job = Job("j" + std::to_string(i));
        EXPECT_TRUE(shared.Apply(JobCreatedEvent(job, kT0)).ok());
        EXPECT_TRUE(shared.Apply(Restarting(job, absl::Seconds(20))).ok());
        EXPECT_TRUE(shared.Apply(Failed(job, absl::Seconds(40))).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 500);
  EXPECT_EQ(Value("kubedl_jobs_restarted_total"), 500);
  EXPECT_EQ(Value("kubedl_jobs_failed_total"), 500);
  EXPECT_EQ(Count("kubedl_jobs_duration_seconds"), 500u);
}

// --- gauges from snapshots ---

v1::LiveJobsSnapshot Snapshot(const std::string& reconciler, uint64_t generation,
                              std::vector<v1::LiveJob> jobs, bool last = true) {
  v1::LiveJobsSnapshot s;
  s.set_reconciler_id(reconciler);
  s.set_generation(generation);
  for (auto& j : jobs) *s.add_jobs() = std::move(j);
  s.set_last(last);
  return s;
}

class GaugeTest : public JobMetricsAggregatorTest {
 protected:
  double Running(const std::string& ns = "team-a") {
    return reader_.Value("kubedl_jobs_running", {{"kind", "TFJob"}, {"namespace", ns}});
  }
  double Pending(const std::string& ns = "team-a") {
    return reader_.Value("kubedl_jobs_pending", {{"kind", "TFJob"}, {"namespace", ns}});
  }
  void ApplySnapshotOk(const v1::LiveJobsSnapshot& s) {
    ASSERT_TRUE(aggregator().Apply(s).ok());
  }
};

TEST_F(GaugeTest, SnapshotSetsRunningAndPendingByKindAndNamespace) {
  ApplySnapshotOk(Snapshot("r1", 1,
                           {MakeLiveJob(Job("a"), "Running"), MakeLiveJob(Job("b"), "Running"),
                            MakeLiveJob(Job("c"), "Created"), MakeLiveJob(Job("d"), "Restarting"),
                            MakeLiveJob(Job("e", "TFJob", "team-b"), "Running")}));
  EXPECT_EQ(Running(), 2);
  EXPECT_EQ(Pending(), 1);
  EXPECT_EQ(Running("team-b"), 1);
  EXPECT_EQ(aggregator().LiveJobs(), 5u);
}

TEST_F(GaugeTest, SnapshotReplacesWhatTheSameReconcilerSaidBefore) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Created"),
                                     MakeLiveJob(Job("b"), "Running")}));
  ApplySnapshotOk(Snapshot("r1", 2, {MakeLiveJob(Job("a"), "Running")}));
  EXPECT_EQ(Running(), 1);
  EXPECT_EQ(Pending(), 0);
  // A gauge series at zero is removed rather than kept forever.
  EXPECT_FALSE(reader_.Find("kubedl_jobs_pending", {{"kind", "TFJob"}, {"namespace", "team-a"}}));
}

TEST_F(GaugeTest, RestartedReconcilerWithTheSameIdAndGenerationOneReplacesItsOldSnapshot) {
  ApplySnapshotOk(Snapshot("r1", 7, {MakeLiveJob(Job("a"), "Running")}));
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("b"), "Created")}));
  EXPECT_EQ(Running(), 0);
  EXPECT_EQ(Pending(), 1);
}

TEST_F(GaugeTest, SnapshotsOfTwoReconcilersAddUpAndASharedJobCountsOnce) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Running"),
                                     MakeLiveJob(Job("b"), "Running")}));
  ApplySnapshotOk(Snapshot("r2", 1, {MakeLiveJob(Job("b"), "Running"),
                                     MakeLiveJob(Job("c"), "Running")}));
  EXPECT_EQ(Running(), 3);
  // r1 no longer lists b, but r2 does: b stays.
  ApplySnapshotOk(Snapshot("r1", 2, {MakeLiveJob(Job("a"), "Running")}));
  EXPECT_EQ(Running(), 3);
}

TEST_F(GaugeTest, SnapshotInPartsTakesEffectWhenTheLastPartArrives) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Running")}, /*last=*/false));
  EXPECT_EQ(Running(), 0);
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("b"), "Running")}, /*last=*/true));
  EXPECT_EQ(Running(), 2);
  EXPECT_EQ(reader_.Value("kubedl_metrics_snapshots_applied_total", {}), 1);
}

TEST_F(GaugeTest, IncompleteGenerationIsDroppedWhenANewerOneStarts) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Running")}, /*last=*/false));
  ApplySnapshotOk(Snapshot("r1", 2, {MakeLiveJob(Job("b"), "Running")}, /*last=*/true));
  EXPECT_EQ(Running(), 1);
  EXPECT_EQ(aggregator().LiveJobs(), 1u);
}

TEST_F(GaugeTest, JobThatFinishesLeavesTheGaugesBeforeTheNextSnapshot) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Running"),
                                     MakeLiveJob(Job("b"), "Running"),
                                     MakeLiveJob(Job("c"), "Created")}));
  ApplyOk(Succeeded(Job("a"), absl::Seconds(30)));
  ApplyOk(JobDeletedEvent(Job("c"), kT0, kT0 + absl::Seconds(31)));
  EXPECT_EQ(Running(), 1);
  EXPECT_EQ(Pending(), 0);
  // A reconciler whose cache lags still lists a as Running: it stays out.
  ApplySnapshotOk(Snapshot("r1", 2, {MakeLiveJob(Job("a"), "Running"),
                                     MakeLiveJob(Job("b"), "Running")}));
  EXPECT_EQ(Running(), 1);
}

TEST_F(GaugeTest, ReconcilerSilentForLongerThanTheSnapshotTtlLeavesTheGauges) {
  ApplySnapshotOk(Snapshot("gone", 1, {MakeLiveJob(Job("a"), "Running")}));
  ApplySnapshotOk(Snapshot("alive", 1, {MakeLiveJob(Job("b"), "Running")}));
  clock_.Advance(absl::Minutes(4));
  ApplySnapshotOk(Snapshot("alive", 2, {MakeLiveJob(Job("b"), "Running")}));
  clock_.Advance(absl::Minutes(2));  // default TTL 5 min: "gone" is 6 min old
  aggregator().Housekeep();
  EXPECT_EQ(Running(), 1);
  EXPECT_EQ(reader_.Value("kubedl_metrics_reconcilers_expired_total", {}), 1);
}

TEST_F(GaugeTest, SnapshotEntriesOfUnknownKindsStayOutOfTheGauges) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a", "MXJob"), "Running"),
                                     MakeLiveJob(Job("b"), "Running")}));
  EXPECT_EQ(Running(), 1);
  EXPECT_FALSE(reader_.Find("kubedl_jobs_running", {{"kind", "MXJob"}, {"namespace", "team-a"}}));
}

TEST_F(GaugeTest, SnapshotWithoutReconcilerIdIsRejected) {
  EXPECT_EQ(aggregator().Apply(Snapshot("", 1, {MakeLiveJob(Job("a"), "Running")})).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Running(), 0);
}

class SmallGaugeTest : public GaugeTest {
 protected:
  SmallGaugeTest() { options_.snapshots.max_jobs = 2; }
};

TEST_F(SmallGaugeTest, SnapshotListingMoreThanMaxJobsIsRejected) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Running")}));
  EXPECT_EQ(aggregator()
                .Apply(Snapshot("r1", 2, {MakeLiveJob(Job("a"), "Running"),
                                          MakeLiveJob(Job("b"), "Running"),
                                          MakeLiveJob(Job("c"), "Running")}))
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Running(), 1);  // the previous snapshot stands
}

// --- issue 18: bounds on what a caller can make the service store ---

TEST_F(JobMetricsAggregatorTest, FourMegabyteNamespaceIsRejectedAndNothingIsStored) {
  const absl::Status status =
      aggregator().Apply(JobCreatedEvent(Job("a", "TFJob", std::string(4'000'000, 'n')), kT0));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("not a DNS-1123 label"), std::string::npos) << status;
  EXPECT_LT(status.message().size(), 400u) << "the message quotes only an excerpt";
  EXPECT_EQ(aggregator().TrackedJobs(), 0u);
  EXPECT_TRUE(reader_.LabelNames("kubedl_jobs_created_total").empty());
  EXPECT_EQ(reader_.Value("kubedl_metrics_rejected_messages_total",
                          {{"reason", "invalid_namespace"}}),
            1);
}

TEST_F(JobMetricsAggregatorTest, LabelValuesBreakingKubernetesRulesAreRejectedWithTheirReason) {
  struct Case {
    v1::JobEvent event;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {JobCreatedEvent(Job("a", "TFJob", "Team-A"), kT0), "invalid_namespace"},
      {JobCreatedEvent(Job("a", "TFJob", std::string(64, 'n')), kT0), "invalid_namespace"},
      {JobCreatedEvent(Job("a", "TFJob", "-team"), kT0), "invalid_namespace"},
      {JobCreatedEvent(Job("a", "TFJob", ""), kT0), "invalid_namespace"},
      {JobCreatedEvent(MakeJobKey("a", "TFJob", "team-a", std::string(254, 'j')), kT0),
       "invalid_name"},
      {JobCreatedEvent(MakeJobKey("a", "TFJob", "team-a", "Job_1"), kT0), "invalid_name"},
      {JobCreatedEvent(Job(std::string(129, 'u')), kT0), "invalid_uid"},
      {JobCreatedEvent(Job("a b"), kT0), "invalid_uid"},
      {JobCreatedEvent(Job("a", std::string(1000, 'K')), kT0), "unknown_kind"},
      {PodExitedEvent(Job("a"), kT0, kT0, "w0", std::string(200, 'p'), 1), "invalid_uid"},
      {PodExitedEvent(Job("a"), kT0, kT0, "W0!", "pod-1", 1), "invalid_name"},
      {PodReadyEvent(Job("a"), kT0, kT0, std::string(300, 'w')), "invalid_name"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(aggregator().Apply(c.event).code(), absl::StatusCode::kInvalidArgument)
        << c.event.ShortDebugString().substr(0, 200);
  }
  std::map<std::string, int> expected;
  for (const Case& c : cases) ++expected[c.reason];
  for (const auto& [reason, count] : expected) {
    EXPECT_EQ(reader_.Value("kubedl_metrics_rejected_messages_total", {{"reason", reason}}), count)
        << reason;
  }
  EXPECT_EQ(Events("rejected"), static_cast<double>(cases.size()));
  EXPECT_EQ(aggregator().TrackedJobs(), 0u);
  // The longest valid values are accepted.
  ApplyOk(JobCreatedEvent(MakeJobKey(std::string(128, 'u'), "TFJob", std::string(63, 'n'),
                                     std::string(63, 'j') + "." + std::string(63, 'k')),
                          kT0));
}

TEST(LabelRulesTest, UidAndReconcilerIdRulesAtTheirEdges) {
  EXPECT_TRUE(IsObjectUid("0f8e5a2c-1b7d-4e0a-9c3f-2d6b8a1e4f70"));
  EXPECT_FALSE(IsObjectUid("a/b"));
  EXPECT_FALSE(IsObjectUid(std::string(1, '\n')));
  EXPECT_TRUE(IsReconcilerId("host-1/4242/1764567890123456789"));
  EXPECT_FALSE(IsReconcilerId("host 1"));
  EXPECT_FALSE(IsReconcilerId(std::string(254, 'r')));
}

TEST_F(JobMetricsAggregatorTest, RefusedValuesAreQuotedShortAndEscaped) {
  const absl::Status status = aggregator().Apply(
      JobCreatedEvent(Job("a", "TFJob", "x\nE1201 forged log line" + std::string(1000, 'y')), kT0));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << status;
  EXPECT_NE(status.message().find("(1023 bytes)"), std::string::npos) << status;
}

class NamespaceCapTest : public JobMetricsAggregatorTest {
 protected:
  NamespaceCapTest()
      : JobMetricsAggregatorTest({.retention = absl::Hours(1), .max_namespaces = 2}) {}
  double Created(const std::string& ns) {
    return Value("kubedl_jobs_created_total", {{"kind", "TFJob"}, {"namespace", ns}});
  }
};

TEST_F(NamespaceCapTest, NamespacesBeyondTheCapAggregateIntoOther) {
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j <= i; ++j) {
      ApplyOk(JobCreatedEvent(Job(absl::StrCat("j", i, "-", j), "TFJob", absl::StrCat("ns", i)),
                              kT0));
    }
  }
  EXPECT_EQ(Created("ns0"), 1);
  EXPECT_EQ(Created("ns1"), 2);
  EXPECT_EQ(Created(NamespaceLabels::kOther), 3 + 4 + 5);
  EXPECT_FALSE(
      reader_.Find("kubedl_jobs_created_total", {{"kind", "TFJob"}, {"namespace", "ns2"}}));
  EXPECT_EQ(reader_.Value("kubedl_metrics_namespace_labels", {}), 2);
  EXPECT_EQ(reader_.Value("kubedl_metrics_other_namespaces", {}), 3);
  // A later event of a job in an overflowed namespace stays in "_other": totals stay exact.
  ApplyOk(Succeeded(Job("j4-0", "TFJob", "ns4"), absl::Seconds(30)));
  EXPECT_EQ(Value("kubedl_jobs_successful_total", {{"kind", "TFJob"}, {"namespace", "_other"}}), 1);
  // Gauges follow the same labels.
  ASSERT_TRUE(aggregator()
                  .Apply(Snapshot("r1", 1, {MakeLiveJob(Job("j0-0", "TFJob", "ns0"), "Running"),
                                            MakeLiveJob(Job("j3-0", "TFJob", "ns3"), "Running"),
                                            MakeLiveJob(Job("new", "TFJob", "ns9"), "Running")}))
                  .ok());
  EXPECT_EQ(reader_.Value("kubedl_jobs_running", {{"kind", "TFJob"}, {"namespace", "ns0"}}), 1);
  EXPECT_EQ(reader_.Value("kubedl_jobs_running", {{"kind", "TFJob"}, {"namespace", "_other"}}), 2);
}

TEST_F(NamespaceCapTest, SeriesOfAForgottenNamespaceAreRemovedAndItsSlotIsReused) {
  ApplyOk(JobCreatedEvent(Job("a", "TFJob", "gone"), kT0));
  ApplyOk(PodReadyEvent(Job("a", "TFJob", "gone"), kT0, kT0 + absl::Seconds(3), "w0"));
  ApplyOk(JobDeletedEvent(Job("a", "TFJob", "gone"), kT0, kT0 + absl::Seconds(30)));
  ApplyOk(JobCreatedEvent(Job("b", "TFJob", "stays"), kT0));
  ApplyOk(JobCreatedEvent(Job("c", "TFJob", "waits"), kT0));  // over the cap: "_other"
  ASSERT_EQ(Created("gone"), 1);
  ASSERT_EQ(Created(NamespaceLabels::kOther), 1);
  clock_.Advance(absl::Minutes(59));
  aggregator().Housekeep();
  EXPECT_TRUE(
      reader_.Find("kubedl_jobs_deleted_total", {{"kind", "TFJob"}, {"namespace", "gone"}}));
  clock_.Advance(absl::Minutes(2));  // retention (1h) after the deletion: "a" is forgotten
  aggregator().Housekeep();
  for (const char* family : {"kubedl_jobs_created_total", "kubedl_jobs_deleted_total",
                             "kubedl_jobs_successful_total",
                             "kubedl_jobs_first_pod_launch_delay_seconds"}) {
    EXPECT_FALSE(reader_.Find(family, {{"kind", "TFJob"}, {"namespace", "gone"}})) << family;
  }
  EXPECT_EQ(Created("stays"), 1);
  EXPECT_EQ(reader_.Value("kubedl_metrics_namespace_series_removed_total", {}), 1);
  // The freed slot goes to the next new namespace; "waits" keeps "_other" while its job is known.
  ApplyOk(JobCreatedEvent(Job("d", "TFJob", "fresh"), clock_.Now()));
  ApplyOk(JobCreatedEvent(Job("e", "TFJob", "waits"), clock_.Now()));
  EXPECT_EQ(Created("fresh"), 1);
  EXPECT_EQ(Created(NamespaceLabels::kOther), 2);
}

TEST_F(NamespaceCapTest, NamespaceWithOnlyALiveJobKeepsItsGaugeAndLosesItWhenTheJobGoes) {
  ASSERT_TRUE(aggregator()
                  .Apply(Snapshot("r1", 1, {MakeLiveJob(Job("a", "TFJob", "live"), "Running")}))
                  .ok());
  EXPECT_EQ(reader_.Value("kubedl_jobs_running", {{"kind", "TFJob"}, {"namespace", "live"}}), 1);
  ASSERT_TRUE(aggregator().Apply(Snapshot("r1", 2, {})).ok());
  EXPECT_FALSE(reader_.Find("kubedl_jobs_running", {{"kind", "TFJob"}, {"namespace", "live"}}));
  EXPECT_EQ(reader_.Value("kubedl_metrics_namespace_labels", {}), 0);
}

class PerJobTrackingTest : public JobMetricsAggregatorTest {
 protected:
  PerJobTrackingTest()
      : JobMetricsAggregatorTest({.max_pod_exits_per_job = 3, .max_restarts_per_job = 2}) {}
  v1::JobEvent Exit(int pod) {
    return PodExitedEvent(Job("a"), kT0, kT0 + absl::Milliseconds(pod), "w0",
                          absl::StrCat("pod-", pod), 137);
  }
};

TEST_F(PerJobTrackingTest, PodExitsBeyondTheCapForgetTheOldestAndRecentResendsStayExact) {
  for (int pod = 1; pod <= 5; ++pod) ApplyOk(Exit(pod));
  const std::map<std::string, std::string> code = {{"kind", "TFJob"}, {"code", "137"}};
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", code), 5);
  // The last three pods are remembered: re-sending them (a reconciler restart re-sends the pods
  // that still exist, the most recent ones) counts nothing.
  for (int pod = 3; pod <= 5; ++pod) ApplyOk(Exit(pod));
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", code), 5);
  // The documented cost: pod-1 was forgotten, so its re-send counts again.
  ApplyOk(Exit(1));
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", code), 6);
}

TEST_F(PerJobTrackingTest, RestartsBeyondTheCapForgetTheOldest) {
  for (int s : {10, 20, 30}) ApplyOk(Restarting(Job("a"), absl::Seconds(s)));
  for (int s : {20, 30}) ApplyOk(Restarting(Job("a"), absl::Seconds(s)));
  EXPECT_EQ(Value("kubedl_jobs_restarted_total"), 3);
}

TEST_F(PerJobTrackingTest, EveryDistinctPodExitBeyondTheCapIsStillCounted) {
  for (int pod = 0; pod < 100'000; ++pod) ApplyOk(Exit(pod));
  EXPECT_EQ(Value("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "137"}}), 100'000);
  EXPECT_EQ(aggregator().TrackedJobs(), 1u);
}

class OverallTrackingTest : public JobMetricsAggregatorTest {
 protected:
  OverallTrackingTest()
      : JobMetricsAggregatorTest({.max_pod_exits_per_job = 3, .max_remembered_transitions = 4}) {}
  v1::JobEvent Exit(const std::string& job, const std::string& pod) {
    return PodExitedEvent(Job(job), kT0, kT0, "w0", pod, 1);
  }
  double Exits() {
    return Value("kubedl_pods_exit_code_total", {{"kind", "TFJob"}, {"code", "1"}});
  }
  double Remembered() { return reader_.Value("kubedl_metrics_remembered_transitions", {}); }
};

TEST_F(OverallTrackingTest, PastTheOverallBoundNoJobsMemoryGrowsAndEveryExitStillCounts) {
  for (const char* pod : {"a1", "a2", "a3"}) ApplyOk(Exit("a", pod));
  ApplyOk(Exit("b", "b1"));
  EXPECT_EQ(Remembered(), 4);
  // At the overall bound: job c remembers nothing, so its re-send counts again (the cost).
  ApplyOk(Exit("c", "c1"));
  ApplyOk(Exit("c", "c1"));
  // Job a replaces its oldest pod instead of growing: a4 is remembered, a1 forgotten.
  ApplyOk(Exit("a", "a4"));
  ApplyOk(Exit("a", "a4"));
  ApplyOk(Exit("b", "b1"));
  EXPECT_EQ(Remembered(), 4);
  EXPECT_EQ(Exits(), 3 + 1 + 2 + 1);
  // A forgotten job gives its share back.
  ApplyOk(JobDeletedEvent(Job("a"), kT0, kT0 + absl::Seconds(1)));
  clock_.Advance(absl::Hours(2));
  aggregator().Housekeep();
  EXPECT_EQ(Remembered(), 1);
}

TEST_F(JobMetricsAggregatorTest, FarFutureTimestampIsRejected) {
  v1::JobEvent max_time = JobCreatedEvent(Job("a"), kT0);
  max_time.mutable_time()->set_seconds(std::numeric_limits<int64_t>::max());
  v1::JobEvent eleven_minutes_ahead = JobCreatedEvent(Job("a"), clock_.Now() + absl::Minutes(11));
  v1::JobEvent ready_far_ahead = PodReadyEvent(Job("a"), kT0, kT0, "w0");
  ready_far_ahead.mutable_time()->set_seconds(253402300799);  // 9999-12-31
  v1::JobEvent created_before_1970 = PodReadyEvent(Job("a"), kT0, kT0, "w0");
  created_before_1970.mutable_job_created()->set_seconds(std::numeric_limits<int64_t>::min());
  v1::JobEvent start_far_ahead = ConditionChangedEvent(
      Job("a"), kT0, kT0 + absl::Seconds(30), "Succeeded", "True", "S", kT0 + absl::Hours(24));
  v1::JobEvent bad_nanos = JobCreatedEvent(Job("a"), kT0);
  bad_nanos.mutable_time()->set_nanos(-1);
  for (const auto* e : {&max_time, &eleven_minutes_ahead, &ready_far_ahead, &created_before_1970,
                        &start_far_ahead, &bad_nanos}) {
    const absl::Status status = aggregator().Apply(*e);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << e->ShortDebugString();
    EXPECT_NE(status.message().find("--max-clock-skew"), std::string::npos) << status;
  }
  EXPECT_EQ(reader_.Value("kubedl_metrics_rejected_messages_total",
                          {{"reason", "time_out_of_range"}}),
            6);
  EXPECT_EQ(aggregator().TrackedJobs(), 0u);
  // Within the skew is fine.
  ApplyOk(JobCreatedEvent(Job("a"), clock_.Now() + absl::Minutes(9)));
}

TEST_F(JobMetricsAggregatorTest, LaunchDelaysAtTheEdgesOfTheTimeWindowKeepSumsFinite) {
  const absl::Time latest = clock_.Now() + absl::Minutes(10);
  ApplyOk(PodReadyEvent(Job("a"), absl::UnixEpoch(), latest, "w0"));
  ApplyOk(AllPodsRunningEvent(Job("a"), absl::UnixEpoch(), latest, 2));
  ApplyOk(ConditionChangedEvent(Job("a"), absl::UnixEpoch(), latest, "Failed", "True", "F",
                                absl::UnixEpoch()));
  for (const char* family : {"kubedl_jobs_first_pod_launch_delay_seconds",
                             "kubedl_jobs_all_pods_launch_delay_seconds",
                             "kubedl_jobs_duration_seconds"}) {
    EXPECT_EQ(Count(family), 1u) << family;
    EXPECT_TRUE(std::isfinite(Sum(family))) << family;
    EXPECT_DOUBLE_EQ(Sum(family), absl::ToDoubleSeconds(latest - absl::UnixEpoch())) << family;
  }
}

class SnapshotLimitTest : public GaugeTest {
 protected:
  SnapshotLimitTest() {
    options_.snapshots = {.max_jobs = 3, .max_incomplete = 2, .max_reconcilers = 3};
  }
  double Rejected(const std::string& reason) {
    return reader_.Value("kubedl_metrics_rejected_messages_total", {{"reason", reason}});
  }
};

TEST_F(SnapshotLimitTest, FakeReconcilerSnapshotsBeyondTheCapAreRefused) {
  // Two reconcilers in the middle of a snapshot: the third one to start a multi-part snapshot
  // is refused and keeps nothing.
  ApplySnapshotOk(Snapshot("fake-1", 1, {MakeLiveJob(Job("a"), "Running")}, /*last=*/false));
  ApplySnapshotOk(Snapshot("fake-2", 1, {MakeLiveJob(Job("b"), "Running")}, /*last=*/false));
  const absl::Status status =
      aggregator().Apply(Snapshot("fake-3", 1, {MakeLiveJob(Job("c"), "Running")}, false));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("--max-incomplete-snapshots"), std::string::npos) << status;
  EXPECT_EQ(Rejected("too_many_incomplete_snapshots"), 1);
  // A one-part snapshot is never incomplete: it is applied at once.
  ApplySnapshotOk(Snapshot("real", 1, {MakeLiveJob(Job("d"), "Running")}));
  EXPECT_EQ(Running(), 1);
  // A completed snapshot frees its place for the next multi-part one.
  ApplySnapshotOk(Snapshot("fake-1", 1, {}, /*last=*/true));
  EXPECT_EQ(Running(), 2);
  ApplySnapshotOk(Snapshot("real", 2, {MakeLiveJob(Job("d"), "Running")}, /*last=*/false));
}

TEST_F(SnapshotLimitTest, SnapshotFromAReconcilerBeyondTheCapIsRefusedUntilOneExpires) {
  for (const char* id : {"r1", "r2", "r3"}) ApplySnapshotOk(Snapshot(id, 1, {}));
  const absl::Status status =
      aggregator().Apply(Snapshot("r4", 1, {MakeLiveJob(Job("a"), "Running")}));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("--max-reconcilers"), std::string::npos) << status;
  EXPECT_EQ(Rejected("too_many_reconcilers"), 1);
  EXPECT_EQ(Running(), 0);
  clock_.Advance(absl::Minutes(6));  // the snapshot TTL (5 min) passes
  aggregator().Housekeep();
  ApplySnapshotOk(Snapshot("r4", 1, {MakeLiveJob(Job("a"), "Running")}));
  EXPECT_EQ(Running(), 1);
}

TEST_F(SnapshotLimitTest, SnapshotOverMaxJobsAcrossItsPartsIsRefused) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Running"),
                                     MakeLiveJob(Job("b"), "Running")}, false));
  EXPECT_EQ(aggregator()
                .Apply(Snapshot("r1", 1, {MakeLiveJob(Job("c"), "Running"),
                                          MakeLiveJob(Job("d"), "Running")}))
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Rejected("snapshot_too_large"), 1);
  EXPECT_EQ(Running(), 0);
}

TEST_F(GaugeTest, SnapshotEntryWithAnInvalidNamespaceRefusesThePartAndStoresNothing) {
  ApplySnapshotOk(Snapshot("r1", 1, {MakeLiveJob(Job("a"), "Running")}));
  EXPECT_EQ(aggregator()
                .Apply(Snapshot("r1", 2, {MakeLiveJob(Job("b"), "Running"),
                                          MakeLiveJob(Job("c", "TFJob", std::string(100'000, 'x')),
                                                      "Running")}))
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Running(), 1);  // the previous snapshot stands
  EXPECT_EQ(reader_.LabelNames("kubedl_jobs_running").at("namespace"), 1);  // one series
  EXPECT_EQ(aggregator().Apply(Snapshot(std::string(300, 'r'), 1, {})).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kubedl::metrics
