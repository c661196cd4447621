#include "services/metrics/job_metrics_aggregator.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kubedl/common/fake_clock.h"
#include "kubedl/metrics/job_events.h"
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
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  ApplyOk(Succeeded(Job("a"), absl::Seconds(30)));
  clock_.Advance(absl::Hours(2));
  aggregator().Housekeep();
  ASSERT_EQ(aggregator().TrackedJobs(), 0u);
  ApplyOk(JobCreatedEvent(Job("a"), kT0));
  ApplyOk(Succeeded(Job("a"), absl::Seconds(30)));
  EXPECT_EQ(Value("kubedl_jobs_created_total"), 1);
  EXPECT_EQ(Value("kubedl_jobs_successful_total"), 1);
  EXPECT_EQ(Events("stale"), 2);
  EXPECT_EQ(aggregator().TrackedJobs(), 0u);
}

TEST_F(RetentionTest, LateDeleteOfAForgottenJobIsCountedButItsOldEventsStayStale) {
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
  SmallGaugeTest() { options_.max_jobs = 2; }
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

}  // namespace
}  // namespace kubedl::metrics
