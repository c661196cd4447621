// SIGTERM at any moment of the reconciler's life is a clean stop: exit status 0 within a few
// seconds, whether it arrives as soon as the process can take it, while it stands for the Lease,
// while its caches sync, right after it became the leader, or while it creates a job's pods.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <iostream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "test/integration/reconciler/reconciler_fixture.h"

namespace kubedl::reconciler::testing {
namespace {

constexpr absl::Duration kExitWithin = absl::Seconds(5);

// Polls `condition` every `interval` until true or `timeout` (finer than Eventually's 50 ms).
bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout,
               absl::Duration interval = absl::Milliseconds(50)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(interval);
  }
  return true;
}

class ReconcilerShutdownTest : public ReconcilerTest {
 protected:
  bool StartsReconciler() const override { return false; }

  // A reconciler of this namespace with leader election on (a Lease of its own).
  std::unique_ptr<ReconcilerProcess> Spawn(std::vector<std::string> flags = {}) {
    if (flags.empty()) {
      flags = {"--leader-elect=true", "--leader-elect-namespace=" + ns(),
               "--leader-elect-name=kubedl-reconciler-shutdown-it",
               "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s",
               "--leader-elect-retry-period=500ms"};
    }
    flags.push_back("--namespace=" + ns());
    flags.push_back("--workloads=TFJob");
    auto process = std::make_unique<ReconcilerProcess>(std::move(flags));
    EXPECT_TRUE(process->Start(/*wait_ready=*/false)) << "could not spawn the reconciler";
    return process;
  }

  static std::string Log(const ReconcilerProcess& r) {
    std::ifstream in(r.log_path());
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
  }

  // Sends SIGTERM and expects exit status 0 within kExitWithin.
  void ExpectCleanStopOnSigterm(ReconcilerProcess& r, const std::string& when) {
    ASSERT_TRUE(r.Signal(SIGTERM)) << when << ": the process was already gone\n" << r.LogTail();
    const absl::Time sent = absl::Now();
    std::optional<int> status = r.WaitExit(kExitWithin);
    ASSERT_TRUE(status.has_value()) << when << ": still running " << kExitWithin
                                    << " after SIGTERM\n" << r.LogTail();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << when << ": "
        << (WIFSIGNALED(*status) ? absl::StrCat("killed by signal ", WTERMSIG(*status))
                                 : absl::StrCat("exit status ", WEXITSTATUS(*status)))
        << "\n" << r.LogTail();
    EXPECT_EQ(Log(r).find("Check failed"), std::string::npos) << r.LogTail();
    std::cout << when << ": exited " << absl::FormatDuration(absl::Now() - sent)
              << " after SIGTERM" << std::endl;
  }

  // Waits until the process has blocked SIGTERM (the first line of its main()).
  void WaitUntilItTakesSigterm(ReconcilerProcess& r) {
    ASSERT_TRUE(PollUntil([&] { return r.Blocks(SIGTERM) || !r.Alive(); },
                                            absl::Seconds(5), absl::Microseconds(200)))
        << r.LogTail();
  }
};

TEST_F(ReconcilerShutdownTest, SigtermAsSoonAsTheProcessCanTakeItExitsZero) {
  auto r = Spawn();
  WaitUntilItTakesSigterm(*r);
  ExpectCleanStopOnSigterm(*r, "at once");
}

TEST_F(ReconcilerShutdownTest, SigtermAtPointsOfStartUpExitsZero) {
  for (absl::Duration after : {absl::Milliseconds(50), absl::Milliseconds(200), absl::Seconds(1)}) {
    auto r = Spawn();
    WaitUntilItTakesSigterm(*r);
    absl::SleepFor(after);
    ExpectCleanStopOnSigterm(*r, absl::StrCat("after ", absl::FormatDuration(after)));
    if (HasFatalFailure()) return;
  }
}

TEST_F(ReconcilerShutdownTest, SigtermRightAfterItBecameTheLeaderExitsZero) {
  auto r = Spawn();
  ASSERT_TRUE(PollUntil(
      [&] { return Log(*r).find("is the leader") != std::string::npos || !r->Alive(); },
      absl::Seconds(30), absl::Milliseconds(5)))
      << r->LogTail();
  ExpectCleanStopOnSigterm(*r, "right after it became the leader");
}

TEST_F(ReconcilerShutdownTest, SigtermOnceTheLeaderIsReadyExitsZero) {
  auto r = Spawn();
  ASSERT_TRUE(PollUntil(
      [&] {
        return (Log(*r).find("is the leader") != std::string::npos &&
                HttpGet(r->health_port(), "/readyz").status == 200) ||
               !r->Alive();
      },
      absl::Seconds(60)))
      << r->LogTail();
  ExpectCleanStopOnSigterm(*r, "when the leader was ready");
}

TEST_F(ReconcilerShutdownTest, SigtermWhileCreatingAJobsPodsExitsZero) {
  auto r = Spawn({"--leader-elect=false", "--create-parallelism=4"});
  ASSERT_TRUE(PollUntil(
      [&] { return HttpGet(r->health_port(), "/readyz").status == 200 || !r->Alive(); },
      absl::Seconds(60)))
      << r->LogTail();
  CreateJob(TfJob("wide", {{"Worker", Replica(40, "Never")}}));
  ASSERT_TRUE(PollUntil([&] { return !Pods("wide").empty(); },
                                          absl::Seconds(30), absl::Milliseconds(5)));
  ExpectCleanStopOnSigterm(*r, "while creating pods");
}

}  // namespace
}  // namespace kubedl::reconciler::testing
