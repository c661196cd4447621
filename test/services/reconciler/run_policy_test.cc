// runPolicy as decisions (core/run_policy.h): suspend and resume, the active deadline and the
// TTL after finishing, cleanPodPolicy and its kind defaults, backoffLimit, RFC 3339 times.
#include "core/run_policy.h"

#include <limits>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "kubedl/api/conditions.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15T08:00:00Z

api::Job JobWith(api::RunPolicy policy, api::JobKind kind = api::JobKind::kTFJob) {
  api::Job job;
  job.kind = kind;
  job.name = "job";
  job.spec.run_policy = std::move(policy);
  return job;
}

void MarkSuspended(api::Job& job) {
  api::SetCondition(job.status, api::kJobSuspended, "TFJobSuspended", "suspended",
                    Rfc3339(kStart));
}

TEST(DecideSuspend, NothingWhenNeitherTheSpecNorTheStatusSaySuspended) {
  EXPECT_EQ(DecideSuspend(JobWith({})), SuspendStep::kNone);
  EXPECT_EQ(DecideSuspend(JobWith({.suspend = false})), SuspendStep::kNone);
}

TEST(DecideSuspend, SuspendWhenTheSpecSaysSoWhetherOrNotAlreadySuspended) {
  api::Job job = JobWith({.suspend = true});
  EXPECT_EQ(DecideSuspend(job), SuspendStep::kSuspend);
  MarkSuspended(job);
  EXPECT_EQ(DecideSuspend(job), SuspendStep::kSuspend);
}

TEST(DecideSuspend, ResumeWhenTheStatusIsSuspendedButTheSpecNoLonger) {
  api::Job job = JobWith({.suspend = false});
  MarkSuspended(job);
  EXPECT_EQ(DecideSuspend(job), SuspendStep::kResume);
  job.spec.run_policy.reset();
  EXPECT_EQ(DecideSuspend(job), SuspendStep::kResume);
}

TEST(DecideSuspend, ALegacyTopLevelSuspendCountsToo) {
  api::Job job = JobWith({});
  job.spec.legacy_run_policy.suspend = true;
  EXPECT_EQ(DecideSuspend(job), SuspendStep::kSuspend);
}

// CheckActiveDeadline reads startTime and activeDeadlineSeconds, CheckTimeToLive completionTime
// and ttlSecondsAfterFinished: the same rule, each with its own fields.
struct TimedCheck {
  const char* name;
  TimedDecision (*check)(const api::Job&, absl::Time);
  std::optional<std::string> api::JobStatus::*since;
  std::optional<int64_t> api::RunPolicy::*seconds;
};

class TimedCheckTest : public ::testing::TestWithParam<TimedCheck> {
 protected:
  // A job whose limit is `seconds` counted from `since` (unset when nullopt).
  api::Job Job(std::optional<int64_t> seconds, std::optional<std::string> since) const {
    api::RunPolicy policy;
    policy.*GetParam().seconds = seconds;
    api::Job job = JobWith(policy);
    job.status.*GetParam().since = std::move(since);
    return job;
  }
  TimedDecision Check(const api::Job& job, absl::Time now) const {
    return GetParam().check(job, now);
  }
};

TEST_P(TimedCheckTest, NeitherDueNorRecheckedWithoutALimit) {
  const TimedDecision d = Check(Job(std::nullopt, Rfc3339(kStart)), kStart + absl::Hours(100));
  EXPECT_FALSE(d.due);
  EXPECT_FALSE(d.recheck_in.has_value());
}

TEST_P(TimedCheckTest, NeitherDueNorRecheckedWithoutAReadableStartingTime) {
  for (const std::optional<std::string>& since :
       {std::optional<std::string>(), std::optional<std::string>(""),
        std::optional<std::string>("yesterday"), std::optional<std::string>("2027-01-15")}) {
    const TimedDecision d = Check(Job(30, since), kStart + absl::Hours(1));
    EXPECT_FALSE(d.due) << since.value_or("<unset>");
    EXPECT_FALSE(d.recheck_in.has_value()) << since.value_or("<unset>");
  }
}

TEST_P(TimedCheckTest, BeforeTheLimitAsksToBeCheckedAgainExactlyWhenItIsReached) {
  const api::Job job = Job(30, Rfc3339(kStart));
  TimedDecision d = Check(job, kStart);
  EXPECT_FALSE(d.due);
  EXPECT_EQ(d.recheck_in, absl::Seconds(30));
  d = Check(job, kStart + absl::Seconds(10) + absl::Milliseconds(250));
  EXPECT_FALSE(d.due);
  EXPECT_EQ(d.recheck_in, absl::Seconds(19) + absl::Milliseconds(750));
}

TEST_P(TimedCheckTest, AtAndAfterTheLimitIsDueWithoutARecheck) {
  const api::Job job = Job(30, Rfc3339(kStart));
  for (absl::Duration after : {absl::Seconds(30), absl::Seconds(31), absl::Hours(24)}) {
    const TimedDecision d = Check(job, kStart + after);
    EXPECT_TRUE(d.due) << after;
    EXPECT_FALSE(d.recheck_in.has_value()) << after;
  }
}

TEST_P(TimedCheckTest, TheLargestLimitIsNeverDueAndRecheckedFarAhead) {
  const TimedDecision d =
      Check(Job(std::numeric_limits<int64_t>::max(), Rfc3339(kStart)), kStart + absl::Hours(1));
  EXPECT_FALSE(d.due);
  ASSERT_TRUE(d.recheck_in.has_value());
  EXPECT_GT(*d.recheck_in, absl::Hours(24 * 365 * 100));
}

TEST_P(TimedCheckTest, AZeroLimitIsDueAtOnce) {
  EXPECT_TRUE(Check(Job(0, Rfc3339(kStart)), kStart).due);
}

TEST_P(TimedCheckTest, AStartingTimeWithAnOffsetIsTheSameInstant) {
  const TimedDecision d = Check(Job(60, "2027-01-15T09:00:00+01:00"), kStart + absl::Seconds(20));
  EXPECT_EQ(d.recheck_in, absl::Seconds(40));
}

INSTANTIATE_TEST_SUITE_P(
    RunPolicy, TimedCheckTest,
    ::testing::Values(TimedCheck{"ActiveDeadline", &CheckActiveDeadline,
                                 &api::JobStatus::start_time,
                                 &api::RunPolicy::active_deadline_seconds},
                      TimedCheck{"TimeToLive", &CheckTimeToLive, &api::JobStatus::completion_time,
                                 &api::RunPolicy::ttl_seconds_after_finished}),
    [](const ::testing::TestParamInfo<TimedCheck>& info) { return std::string(info.param.name); });

TEST(CheckActiveDeadline, CountsFromTheStartNotTheCompletion) {
  api::Job job = JobWith({.active_deadline_seconds = 30});
  job.status.completion_time = Rfc3339(kStart);
  EXPECT_FALSE(CheckActiveDeadline(job, kStart + absl::Hours(1)).due);
  EXPECT_FALSE(CheckTimeToLive(job, kStart + absl::Hours(1)).due) << "no ttl set";
}

TEST(CleanPodPolicyOf, AnExplicitPolicyWins) {
  for (api::JobKind kind : {api::JobKind::kTFJob, api::JobKind::kXDLJob}) {
    EXPECT_EQ(CleanPodPolicyOf(JobWith({.clean_pod_policy = "All"}, kind)), CleanPodPolicy::kAll);
    EXPECT_EQ(CleanPodPolicyOf(JobWith({.clean_pod_policy = "Running"}, kind)),
              CleanPodPolicy::kRunning);
    EXPECT_EQ(CleanPodPolicyOf(JobWith({.clean_pod_policy = "None"}, kind)),
              CleanPodPolicy::kNone);
  }
}

TEST(CleanPodPolicyOf, AnUnknownPolicyCleansNothing) {
  EXPECT_EQ(CleanPodPolicyOf(JobWith({.clean_pod_policy = "Sometimes"})), CleanPodPolicy::kNone);
  EXPECT_EQ(CleanPodPolicyOf(JobWith({.clean_pod_policy = "all"})), CleanPodPolicy::kNone);
}

TEST(CleanPodPolicyOf, XdlJobsDefaultToRunningAndTheOtherKindsToNone) {
  for (const api::KindDescriptor& d : api::AllKinds()) {
    const CleanPodPolicy expected =
        d.kind == api::JobKind::kXDLJob ? CleanPodPolicy::kRunning : CleanPodPolicy::kNone;
    EXPECT_EQ(CleanPodPolicyOf(JobWith({}, d.kind)), expected) << d.name;
    api::Job without_run_policy = JobWith({}, d.kind);
    without_run_policy.spec.run_policy.reset();
    EXPECT_EQ(CleanPodPolicyOf(without_run_policy), expected) << d.name;
  }
}

TEST(CleanPodPolicyOf, ALegacyTopLevelPolicyCounts) {
  api::Job job = JobWith({});
  job.spec.legacy_run_policy.clean_pod_policy = "All";
  EXPECT_EQ(CleanPodPolicyOf(job), CleanPodPolicy::kAll);
}

TEST(BackoffLimitExceeded, NeverWithoutALimit) {
  EXPECT_FALSE(BackoffLimitExceeded(JobWith({}), 1'000, 1'000));
}

TEST(BackoffLimitExceeded, CountsRecreationsAndContainerRestartsStrictlyAboveTheLimit) {
  const api::Job job = JobWith({.backoff_limit = 2});
  EXPECT_FALSE(BackoffLimitExceeded(job, 0, 0));
  EXPECT_FALSE(BackoffLimitExceeded(job, 2, 0));
  EXPECT_FALSE(BackoffLimitExceeded(job, 0, 2));
  EXPECT_FALSE(BackoffLimitExceeded(job, 1, 1));
  EXPECT_TRUE(BackoffLimitExceeded(job, 3, 0));
  EXPECT_TRUE(BackoffLimitExceeded(job, 0, 3));
  EXPECT_TRUE(BackoffLimitExceeded(job, 2, 1));
}

TEST(BackoffLimitExceeded, AZeroLimitAllowsNoRestartAtAll) {
  const api::Job job = JobWith({.backoff_limit = 0});
  EXPECT_FALSE(BackoffLimitExceeded(job, 0, 0));
  EXPECT_TRUE(BackoffLimitExceeded(job, 1, 0));
  EXPECT_TRUE(BackoffLimitExceeded(job, 0, 1));
}

TEST(Rfc3339, WritesUtcToTheSecond) {
  EXPECT_EQ(Rfc3339(kStart), "2027-01-15T08:00:00Z");
  EXPECT_EQ(Rfc3339(kStart + absl::Milliseconds(999)), "2027-01-15T08:00:00Z");
  EXPECT_EQ(Rfc3339(absl::UnixEpoch()), "1970-01-01T00:00:00Z");
}

TEST(Rfc3339, ParsesBackWhatItWrote) {
  for (absl::Time t :
       {kStart, absl::UnixEpoch(), kStart + absl::Hours(24 * 366) + absl::Seconds(59)}) {
    EXPECT_EQ(ParseRfc3339(Rfc3339(t)), t) << Rfc3339(t);
  }
  EXPECT_EQ(ParseRfc3339(Rfc3339(kStart + absl::Milliseconds(999))), kStart);
}

TEST(Rfc3339, ParsesFractionsAndOffsetsAndRefusesTheRest) {
  EXPECT_EQ(ParseRfc3339("2027-01-15T08:00:00.5Z"), kStart + absl::Milliseconds(500));
  EXPECT_EQ(ParseRfc3339("2027-01-15T03:00:00-05:00"), kStart);
  EXPECT_EQ(ParseRfc3339(std::nullopt), std::nullopt);
  EXPECT_EQ(ParseRfc3339(""), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2027-01-15 08:00:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("1800000000"), std::nullopt);
}

}  // namespace
}  // namespace kubedl::reconciler
