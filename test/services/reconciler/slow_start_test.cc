#include "core/slow_start.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/thread_pool_parallel_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kubedl::reconciler {
namespace {

using ::testing::ElementsAre;
using Range = std::pair<size_t, size_t>;

// Items block until the test releases them, so the test sees exactly which items run together.
class GatedItems {
 public:
  bool Attempt(size_t i) {
    std::unique_lock lock(mu_);
    running_.insert(i);
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_.count(i) > 0; });
    running_.erase(i);
    changed_.notify_all();
    return true;
  }

  // Waits for some items to be running, then a little longer so that an implementation that
  // starts too many shows them too; returns the running set.
  std::set<size_t> NextBatch() {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return !running_.empty(); });
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lock.lock();
    return running_;
  }

  void Release(const std::set<size_t>& items) {
    std::unique_lock lock(mu_);
    released_.insert(items.begin(), items.end());
    changed_.notify_all();
    // The batch is over when all its items returned.
    changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (size_t i : items) {
        if (running_.count(i)) return false;
      }
      return true;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::set<size_t> running_;
  std::set<size_t> released_;
};

// The items a run attempted, recorded from whichever thread ran them.
class RanItems {
 public:
  bool Record(size_t i) {
    std::lock_guard lock(mu_);
    ran_.insert(i);
    return true;
  }
  std::set<size_t> ran() {
    std::lock_guard lock(mu_);
    return ran_;
  }

 private:
  std::mutex mu_;
  std::set<size_t> ran_;
};

TEST(SlowStartTest, BatchesDoubleFromOneUpToTheCapAndRunTheirItemsTogether) {
  // 7 pool threads and the caller: a batch of 8 can only finish if all its items run at once,
  // since each one waits for the test to see the whole batch.
  ThreadPoolParallelRunner pool(7);
  GatedItems items;
  size_t attempted = 0;
  std::thread runner([&] {
    attempted = RunInSlowStartBatches(pool, 20, 8, [&](size_t i) { return items.Attempt(i); });
  });
  std::vector<std::set<size_t>> batches;
  size_t seen = 0;
  while (seen < 20) {
    std::set<size_t> batch = items.NextBatch();
    if (batch.empty()) break;  // stalled: the assertions below say how
    batches.push_back(batch);
    seen += batch.size();
    items.Release(batch);
  }
  runner.join();
  EXPECT_EQ(attempted, 20u);
  EXPECT_THAT(batches, ElementsAre(std::set<size_t>{0}, std::set<size_t>{1, 2},
                                   std::set<size_t>{3, 4, 5, 6},
                                   std::set<size_t>{7, 8, 9, 10, 11, 12, 13, 14},
                                   std::set<size_t>{15, 16, 17, 18, 19}));
}

TEST(SlowStartTest, AFailureStopsTheNextBatchesButFinishesItsOwn) {
  ThreadPoolParallelRunner pool(4);
  RanItems items;
  const size_t attempted = RunInSlowStartBatches(pool, 20, 64, [&](size_t i) {
    return items.Record(i) && i != 4;  // fails in the third batch {3,4,5,6}
  });
  EXPECT_EQ(attempted, 7u);
  EXPECT_EQ(items.ran(), (std::set<size_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(SlowStartTest, AFailingFirstItemStopsEverything) {
  ThreadPoolParallelRunner pool(4);
  std::atomic<int> calls = 0;
  EXPECT_EQ(RunInSlowStartBatches(pool, 5, 8, [&](size_t) { return ++calls < 0; }), 1u);
  EXPECT_EQ(calls, 1);
}

TEST(SlowStartTest, NothingToDoAttemptsNothing) {
  ThreadPoolParallelRunner pool(4);
  std::atomic<int> calls = 0;
  EXPECT_EQ(RunInSlowStartBatches(pool, 0, 8, [&](size_t) { return ++calls > 0; }), 0u);
  EXPECT_EQ(calls, 0);
}

TEST(SlowStartTest, EachBatchIsPreparedOnTheCallersThreadBeforeItRuns) {
  ThreadPoolParallelRunner pool(4);
  const std::thread::id caller = std::this_thread::get_id();
  std::mutex mu;
  std::vector<Range> prepared;
  std::set<size_t> ran;
  bool ran_unprepared = false;
  const size_t attempted = RunInSlowStartBatches(
      pool, 10, 4,
      [&](size_t i) {
        std::lock_guard lock(mu);
        ran.insert(i);
        if (prepared.empty() || i < prepared.back().first || i >= prepared.back().second) {
          ran_unprepared = true;
        }
        return true;
      },
      [&](size_t begin, size_t end) {
        EXPECT_EQ(std::this_thread::get_id(), caller);
        std::lock_guard lock(mu);
        prepared.emplace_back(begin, end);
        return true;
      });
  EXPECT_EQ(attempted, 10u);
  EXPECT_THAT(prepared, ElementsAre(Range{0, 1}, Range{1, 3}, Range{3, 7}, Range{7, 10}));
  EXPECT_EQ(ran.size(), 10u);
  EXPECT_FALSE(ran_unprepared);
}

TEST(SlowStartTest, APrepareThatRefusesStopsBeforeThatBatch) {
  ThreadPoolParallelRunner pool(4);
  RanItems items;
  const size_t attempted = RunInSlowStartBatches(
      pool, 10, 4, [&](size_t i) { return items.Record(i); },
      [&](size_t begin, size_t) { return begin < 3; });  // the third batch, [3, 7), is refused
  EXPECT_EQ(attempted, 3u);
  EXPECT_EQ(items.ran(), (std::set<size_t>{0, 1, 2}));
}

TEST(SlowStartTest, ABatchLargerThanThePoolStillRunsEveryItem) {
  ThreadPoolParallelRunner pool(2);
  RanItems items;
  const size_t attempted =
      RunInSlowStartBatches(pool, 100, 32, [&](size_t i) { return items.Record(i); });
  EXPECT_EQ(attempted, 100u);
  EXPECT_EQ(items.ran().size(), 100u);
}

}  // namespace
}  // namespace kubedl::reconciler
