#include <algorithm>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "kubedl/common/fake_clock.h"
#include "kubedl/kube/rate_limiter.h"
#include "kubedl/kube/work_queue.h"

namespace kubedl::kube {
namespace {

using common::FakeClock;

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
  clock.Advance(absl::Seconds(10));  // refilled
  EXPECT_EQ(limiter->When("fresh"), absl::Milliseconds(5));
}

TEST(TokenBucketTest, ReservationsQueueUpAtTheConfiguredRate) {
  FakeClock clock;
  TokenBucket bucket(2, 1, clock);
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(500));
  EXPECT_EQ(bucket.Reserve(), absl::Seconds(1));
}

// A queue whose delays run on a fake clock: delayed items become available exactly when the
// test advances the clock past their deadline, never before.
class WorkQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<WorkQueue> NewQueue(std::unique_ptr<RateLimiter> limiter) {
    return NewWorkQueue(std::move(limiter), clock_);
  }
  std::unique_ptr<WorkQueue> NewQueue() {
    return NewQueue(NewDefaultControllerRateLimiter(absl::Milliseconds(5), absl::Seconds(1000),
                                                    10, 100, clock_));
  }

  FakeClock clock_;
};

TEST_F(WorkQueueTest, DuplicateAddsBeforeProcessingAreDeduplicated) {
  auto q = NewQueue();
  q->Add("a");
  q->Add("b");
  q->Add("a");
  EXPECT_EQ(q->Len(), 2u);
  EXPECT_EQ(q->Get(), "a");
  EXPECT_EQ(q->Get(), "b");
  EXPECT_EQ(q->Len(), 0u);
}

TEST_F(WorkQueueTest, ItemAddedWhileProcessingIsRequeuedOnDoneNotHandedOutTwice) {
  auto q = NewQueue();
  q->Add("a");
  auto item = q->Get();
  ASSERT_EQ(item, "a");
  q->Add("a");
  EXPECT_EQ(q->Len(), 0u);  // not available while in process
  q->Done("a");
  EXPECT_EQ(q->Len(), 1u);
  EXPECT_EQ(q->Get(), "a");
}

TEST_F(WorkQueueTest, DelayedAddAppearsAfterTheDelayNotBefore) {
  auto q = NewQueue();
  q->AddAfter("late", absl::Milliseconds(150));
  q->AddAfter("early", absl::Milliseconds(30));
  EXPECT_EQ(q->Len(), 0u);
  clock_.Advance(absl::Milliseconds(29));
  EXPECT_EQ(q->Len(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(q->Len(), 1u);
  EXPECT_EQ(q->Get(), "early");
  clock_.Advance(absl::Milliseconds(119));
  EXPECT_EQ(q->Len(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(q->Get(), "late");
}

TEST_F(WorkQueueTest, EarlierDelayedAddWinsOverALaterOne) {
  auto q = NewQueue();
  q->AddAfter("x", absl::Seconds(30));
  q->AddAfter("x", absl::Milliseconds(20));
  clock_.Advance(absl::Milliseconds(20));
  EXPECT_EQ(q->Len(), 1u);
  EXPECT_EQ(q->Get(), "x");
  q->Done("x");
  clock_.Advance(absl::Seconds(30));  // the later deadline was dropped, not kept for a second add
  EXPECT_EQ(q->Len(), 0u);
}

TEST_F(WorkQueueTest, RateLimitedAddBacksOffPerItem) {
  auto q = NewQueue(NewItemExponentialRateLimiter(absl::Milliseconds(40), absl::Seconds(10)));
  q->AddRateLimited("a");  // 40 ms
  q->AddRateLimited("a");  // 80 ms: the earlier deadline stays
  q->AddRateLimited("b");  // 40 ms: its own backoff
  EXPECT_EQ(q->NumRequeues("a"), 2);
  EXPECT_EQ(q->NumRequeues("b"), 1);
  clock_.Advance(absl::Milliseconds(39));
  EXPECT_EQ(q->Len(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(q->Len(), 2u);
  EXPECT_EQ(q->Get(), "a");
  q->Done("a");
  q->AddRateLimited("a");  // third failure: 160 ms
  clock_.Advance(absl::Milliseconds(159));
  EXPECT_EQ(q->Get(), "b");
  EXPECT_EQ(q->Len(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(q->Get(), "a");
  q->Done("a");
  q->Forget("a");
  EXPECT_EQ(q->NumRequeues("a"), 0);
}

TEST_F(WorkQueueTest, OverallRateLimitDelaysTheItemsPastTheBurst) {
  // 10 per second, a burst of 2: the third failing item waits 100 ms, not its own 5 ms.
  auto q = NewQueue(NewDefaultControllerRateLimiter(absl::Milliseconds(5), absl::Seconds(1000),
                                                    10, 2, clock_));
  q->AddRateLimited("a");
  q->AddRateLimited("b");
  q->AddRateLimited("c");
  clock_.Advance(absl::Milliseconds(5));
  EXPECT_EQ(q->Len(), 2u);
  clock_.Advance(absl::Milliseconds(94));
  EXPECT_EQ(q->Len(), 2u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(q->Len(), 3u);
}

TEST_F(WorkQueueTest, ShutDownWakesBlockedWorkersAndRejectsAdds) {
  auto q = NewQueue();
  absl::Notification getting;
  std::thread worker([&] {
    getting.Notify();
    EXPECT_EQ(q->Get(), std::nullopt);
  });
  getting.WaitForNotification();
  q->ShutDown();
  worker.join();
  q->Add("a");
  q->AddAfter("b", absl::Milliseconds(1));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(q->Len(), 0u);
  EXPECT_TRUE(q->ShuttingDown());
}

TEST(WorkersTest, NWorkersNeverProcessOneItemConcurrentlyAndRequeueAfterError) {
  // No delay for a failed item: this is about handing items out, the delays are tested above.
  auto q = NewWorkQueue(NewItemExponentialRateLimiter(absl::ZeroDuration(), absl::ZeroDuration()));
  absl::Mutex mu;
  int in_flight_a = 0, max_in_flight_a = 0, calls_a = 0, calls_b = 0;
  bool b_succeeded = false;
  absl::Notification release_a;
  Workers workers(*q, 4, [&](const std::string& item) {
    ReconcileResult result;
    if (item == "a") {
      {
        absl::MutexLock lock(&mu);
        max_in_flight_a = std::max(max_in_flight_a, ++in_flight_a);
        ++calls_a;
      }
      release_a.WaitForNotification();  // held while the test adds it again and again
      absl::MutexLock lock(&mu);
      --in_flight_a;
    } else if (item == "b") {
      absl::MutexLock lock(&mu);
      result.error = ++calls_b < 3;  // fails twice, then succeeds
      b_succeeded = !result.error;
    }
    return result;
  });
  auto a_taken = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return calls_a == 1; };
  auto a_done_twice = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return calls_a == 2 && in_flight_a == 0;
  };
  q->Add("a");
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&a_taken), absl::Seconds(10)));
  }
  // Three idle workers, and "a" added again and again while the first one holds it.
  for (int i = 0; i < 50; ++i) q->Add("a");
  q->Add("b");
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&b_succeeded), absl::Seconds(10)));
  }
  release_a.Notify();
  {
    // The adds made while "a" was in process come back as exactly one more reconcile.
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&a_done_twice), absl::Seconds(10)));
  }
  workers.Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(max_in_flight_a, 1);
  EXPECT_EQ(calls_a, 2);
  EXPECT_EQ(calls_b, 3);
  EXPECT_EQ(q->NumRequeues("b"), 0);  // forgotten after success
}

}  // namespace
}  // namespace kubedl::kube
