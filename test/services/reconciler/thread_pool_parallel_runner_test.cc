// The bounded pool the slow-start creates run on: every item once, never more than its threads
// at a time (plus the callers), items of one call really concurrent, and no deadlock when more
// callers than threads share it.
#include "core/thread_pool_parallel_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kubedl::reconciler {
namespace {

// Counts the items running at once: in all, and on threads other than the callers'.
class ConcurrencyProbe {
 public:
  void Enter(bool on_caller) {
    std::lock_guard lock(mu_);
    ++running_;
    max_running_ = std::max(max_running_, running_);
    if (!on_caller) {
      ++on_pool_;
      max_on_pool_ = std::max(max_on_pool_, on_pool_);
    }
  }
  void Leave(bool on_caller) {
    std::lock_guard lock(mu_);
    --running_;
    if (!on_caller) --on_pool_;
  }
  int max_running() {
    std::lock_guard lock(mu_);
    return max_running_;
  }
  int max_on_pool() {
    std::lock_guard lock(mu_);
    return max_on_pool_;
  }

 private:
  std::mutex mu_;
  int running_ = 0;
  int max_running_ = 0;
  int on_pool_ = 0;
  int max_on_pool_ = 0;
};

TEST(ThreadPoolParallelRunnerTest, RunsEveryItemExactlyOnce) {
  ThreadPoolParallelRunner pool(4);
  std::vector<std::atomic<int>> calls(1000);
  pool.RunAll(calls.size(), [&](size_t i) { ++calls[i]; });
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i].load(), 1) << "item " << i;
  pool.RunAll(0, [&](size_t) { ADD_FAILURE() << "no item to run"; });
}

TEST(ThreadPoolParallelRunnerTest, NeverRunsMoreItemsAtOnceThanItsThreadsPlusTheCallers) {
  constexpr int kThreads = 3;
  constexpr int kCallers = 4;
  ThreadPoolParallelRunner pool(kThreads);
  EXPECT_EQ(pool.threads(), static_cast<size_t>(kThreads));
  ConcurrencyProbe probe;
  std::mutex ids_mu;
  std::set<std::thread::id> pool_ids;
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&] {
      const std::thread::id me = std::this_thread::get_id();
      pool.RunAll(40, [&](size_t) {
        const bool on_caller = std::this_thread::get_id() == me;
        if (!on_caller) {
          std::lock_guard lock(ids_mu);
          pool_ids.insert(std::this_thread::get_id());
        }
        probe.Enter(on_caller);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        probe.Leave(on_caller);
      });
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_LE(probe.max_on_pool(), kThreads);
  EXPECT_GE(probe.max_on_pool(), 2) << "the pool's threads should have run items together";
  EXPECT_LE(probe.max_running(), kThreads + kCallers);
  EXPECT_LE(pool_ids.size(), static_cast<size_t>(kThreads)) << "no thread beyond the pool's";
}

TEST(ThreadPoolParallelRunnerTest, TheItemsOfOneCallRunConcurrently) {
  // Every item waits until all of them have started: this returns only if the pool's three
  // threads and the caller run the four items at the same time.
  ThreadPoolParallelRunner pool(3);
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  std::atomic<int> saw_all = 0;
  pool.RunAll(4, [&](size_t) {
    std::unique_lock lock(mu);
    ++started;
    cv.notify_all();
    if (cv.wait_for(lock, std::chrono::seconds(10), [&] { return started == 4; })) ++saw_all;
  });
  EXPECT_EQ(saw_all.load(), 4);
}

TEST(ThreadPoolParallelRunnerTest, ManyCallersSharingAPoolOfTwoAllComplete) {
  // More callers than threads, each needing more items than the pool has threads: callers run
  // their own items when the pool is busy, so none waits forever.
  ThreadPoolParallelRunner pool(2);
  constexpr int kCallers = 16;
  constexpr size_t kItems = 25;
  std::atomic<int> items_done = 0;
  std::atomic<int> callers_done = 0;
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        pool.RunAll(kItems, [&](size_t) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          ++items_done;
        });
      }
      ++callers_done;
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(callers_done.load(), kCallers);
  EXPECT_EQ(items_done.load(), kCallers * 5 * static_cast<int>(kItems));
}

TEST(ThreadPoolParallelRunnerTest, ACallerBlockedOnAnotherCallsItemStillFinishesItsOwn) {
  // Both pool threads are held by the first call's items; a second call still completes, on its
  // own thread, and then releases them.
  ThreadPoolParallelRunner pool(2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int held = 0;
  std::thread first([&] {
    pool.RunAll(3, [&](size_t) {
      std::unique_lock lock(mu);
      ++held;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    });
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return held == 3; }));
  }
  std::atomic<int> second_items = 0;
  pool.RunAll(5, [&](size_t) { ++second_items; });
  EXPECT_EQ(second_items.load(), 5);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
}

TEST(ThreadPoolParallelRunnerTest, DestroyingAnIdlePoolJoinsItsThreads) {
  for (int i = 0; i < 20; ++i) {
    ThreadPoolParallelRunner pool(8);
    std::atomic<int> n = 0;
    pool.RunAll(3, [&](size_t) { ++n; });
    EXPECT_EQ(n.load(), 3);
  }
}

}  // namespace
}  // namespace kubedl::reconciler
