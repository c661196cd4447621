#include <atomic>
#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/rate_limiter.h"
#include "kubedl/kube/work_queue.h"

namespace kubedl::kube {
namespace {

class FakeClock : public Clock {
 public:
  absl::Time Now() const override { return now; }
  absl::Time now = absl::FromUnixSeconds(1000);
};

TEST(RateLimiterTest, PerItemBackoffDoublesFrom5msTo1000s) {
  auto limiter = NewItemExponentialRateLimiter();
  EXPECT_EQ(limiter->When("a"), absl::Milliseconds(5));
  EXPECT_EQ(limiter->When("a"), absl::Milliseconds(10));
  EXPECT_EQ(limiter->When("a"), absl::Milliseconds(20));
  EXPECT_EQ(limiter->When("b"), absl::Milliseconds(5));  // per item
  EXPECT_EQ(limiter->NumRequeues("a"), 3);
  for (int i = 0; i < 40; ++i) limiter->When("a");
  EXPECT_EQ(limiter->When("a"), absl::Seconds(1000));
  limiter->Forget("a");
  EXPECT_EQ(limiter->NumRequeues("a"), 0);
  EXPECT_EQ(limiter->When("a"), absl::Milliseconds(5));
}

TEST(RateLimiterTest, OverallBucketCapsManyItemsFailingAtOnce) {
  FakeClock clock;
  auto limiter = NewDefaultControllerRateLimiter(absl::Milliseconds(5), absl::Seconds(1000),
                                                 10, 100, clock);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter->When("item-" + std::to_string(i)), absl::Milliseconds(5));  // burst
  }
  // The 101st new item waits for the bucket (1/10 s), not its own 5 ms.
  EXPECT_EQ(limiter->When("late"), absl::Milliseconds(100));
  EXPECT_EQ(limiter->When("later"), absl::Milliseconds(200));
  clock.now += absl::Seconds(10);  // refilled
  EXPECT_EQ(limiter->When("fresh"), absl::Milliseconds(5));
}

TEST(TokenBucketTest, ReservationsQueueUpAtTheConfiguredRate) {
  FakeClock clock;
  TokenBucket bucket(2, 1, clock);
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(500));
  EXPECT_EQ(bucket.Reserve(), absl::Seconds(1));
}

TEST(WorkQueueTest, DuplicateAddsBeforeProcessingAreDeduplicated) {
  auto q = NewWorkQueue();
  q->Add("a");
  q->Add("b");
  q->Add("a");
  EXPECT_EQ(q->Len(), 2u);
  EXPECT_EQ(q->Get(), "a");
  EXPECT_EQ(q->Get(), "b");
  EXPECT_EQ(q->Len(), 0u);
}

TEST(WorkQueueTest, ItemAddedWhileProcessingIsRequeuedOnDoneNotHandedOutTwice) {
  auto q = NewWorkQueue();
  q->Add("a");
  auto item = q->Get();
  ASSERT_EQ(item, "a");
  q->Add("a");
  EXPECT_EQ(q->Len(), 0u);  // not available while in process
  q->Done("a");
  EXPECT_EQ(q->Len(), 1u);
  EXPECT_EQ(q->Get(), "a");
}

TEST(WorkQueueTest, DelayedAddAppearsAfterTheDelayNotBefore) {
  auto q = NewWorkQueue();
  absl::Time start = absl::Now();
  q->AddAfter("late", absl::Milliseconds(150));
  q->AddAfter("early", absl::Milliseconds(30));
  absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(q->Len(), 0u);
  EXPECT_EQ(q->Get(), "early");
  EXPECT_EQ(q->Get(), "late");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST(WorkQueueTest, EarlierDelayedAddWinsOverALaterOne) {
  auto q = NewWorkQueue();
  q->AddAfter("x", absl::Seconds(30));
  q->AddAfter("x", absl::Milliseconds(20));
  absl::Time start = absl::Now();
  EXPECT_EQ(q->Get(), "x");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(WorkQueueTest, RateLimitedAddBacksOffPerItem) {
  auto q = NewWorkQueue(NewItemExponentialRateLimiter(absl::Milliseconds(40), absl::Seconds(10)));
  q->AddRateLimited("a");  // 40 ms
  q->AddRateLimited("a");  // 80 ms: the earlier deadline stays
  EXPECT_EQ(q->NumRequeues("a"), 2);
  absl::Time start = absl::Now();
  EXPECT_EQ(q->Get(), "a");
  absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(30));
  q->Done("a");
  q->Forget("a");
  EXPECT_EQ(q->NumRequeues("a"), 0);
}

TEST(WorkQueueTest, ShutDownWakesBlockedWorkersAndRejectsAdds) {
  auto q = NewWorkQueue();
  std::thread worker([&] { EXPECT_EQ(q->Get(), std::nullopt); });
  absl::SleepFor(absl::Milliseconds(20));
  q->ShutDown();
  worker.join();
  q->Add("a");
  EXPECT_EQ(q->Len(), 0u);
  EXPECT_TRUE(q->ShuttingDown());
}

TEST(WorkersTest, NWorkersNeverProcessOneItemConcurrentlyAndRequeueAfterError) {
  auto q = NewWorkQueue(NewItemExponentialRateLimiter(absl::Milliseconds(1), absl::Seconds(1)));
  std::atomic<int> in_flight_a{0};
  std::atomic<int> max_in_flight_a{0};
  std::atomic<int> calls_b{0};
  std::atomic<int> done{0};
  Workers workers(*q, 4, [&](const std::string& item) {
    ReconcileResult result;
    if (item == "a") {
      int now = ++in_flight_a;
      max_in_flight_a = std::max(max_in_flight_a.load(), now);
      absl::SleepFor(absl::Milliseconds(5));
      --in_flight_a;
    } else if (item == "b") {
      result.error = ++calls_b < 3;  // fails twice, then succeeds
      if (!result.error) ++done;
    }
    return result;
  });
  for (int i = 0; i < 50; ++i) {
    q->Add("a");
    absl::SleepFor(absl::Milliseconds(1));
  }
  q->Add("b");
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (done.load() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  workers.Stop();
  EXPECT_EQ(max_in_flight_a.load(), 1);
  EXPECT_EQ(calls_b.load(), 3);
  EXPECT_EQ(q->NumRequeues("b"), 0);  // forgotten after success
}

}  // namespace
}  // namespace kubedl::kube
