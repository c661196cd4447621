// The start-up every service's main() shares (kubedl/common/service_main.h). What changes the
// whole process (flags, logging, signal handlers and masks) runs in a death test's child.
#include "kubedl/common/service_main.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "gflags/gflags.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/testing/service_process.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace kubedl::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// InitService as a service's main() calls it, with `flag` on the command line.
void InitAsService(const char* flag = nullptr) {
  static char name[] = "kubedl-test-service";
  char* args[] = {name, const_cast<char*>(flag), nullptr};
  int argc = flag == nullptr ? 1 : 2;
  char** argv = args;
  InitService(&argc, &argv, "kubedl-test-service [--v=1]");
}

TEST(CommonServiceMain, ParsesTheFlagsAndLogsToStderr) {
  EXPECT_EXIT(
      {
        InitAsService("--v=3");
        LOG(INFO) << "logged at start-up";
        std::_Exit(FLAGS_v == 3 && FLAGS_logtostderr ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), HasSubstr("logged at start-up"));
}

TEST(CommonServiceMain, ACrashLogsTheStackTraceAndStillEndsTheProcessBySignal) {
  EXPECT_EXIT(
      {
        InitAsService();
        raise(SIGSEGV);
      },
      ::testing::KilledBySignal(SIGSEGV), HasSubstr("*** SIGSEGV"));
}

TEST(CommonServiceMain, SigtermBeforeItIsBlockedKeepsItsDefaultActionWithoutAStackTrace) {
  EXPECT_EXIT(
      {
        InitAsService();
        raise(SIGTERM);
      },
      ::testing::KilledBySignal(SIGTERM), Not(HasSubstr("SIGTERM")));
}

TEST(CommonServiceMain, BlockedShutdownSignalsWaitForWaitForShutdownSignal) {
  for (const int shutdown_signal : {SIGTERM, SIGINT}) {
    EXPECT_EXIT(
        {
          BlockShutdownSignals();
          kill(getpid(), shutdown_signal);
          std::_Exit(WaitForShutdownSignal() == shutdown_signal ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "")
        << strsignal(shutdown_signal);
  }
}

TEST(CommonServiceMain, HealthRoutesAnswerReadyOnlyWhileReady) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("kubedl_test_total").Help("t").Register(*registry).Add({});
  auto ready = std::make_shared<std::atomic<bool>>(false);
  HttpRoutes routes = HealthRoutes(registry, ready, "starting\n");

  EXPECT_EQ(routes.at("/healthz")(HttpRequest{}).body, "ok\n");
  HttpResponse not_ready = routes.at("/readyz")(HttpRequest{});
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.body, "starting\n");
  ready->store(true);
  HttpResponse now_ready = routes.at("/readyz")(HttpRequest{});
  EXPECT_EQ(now_ready.status, 200);
  EXPECT_EQ(now_ready.body, "ok\n");
  EXPECT_THAT(routes.at("/metrics")(HttpRequest{}).body, HasSubstr("kubedl_test_total 0"));
}

TEST(CommonServiceMain, HealthServerServesItsRoutesAndPortZeroTurnsItOff) {
  absl::StatusOr<std::unique_ptr<HttpServer>> off = StartHealthServer("127.0.0.1", 0, {});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(*off, nullptr);

  const int port = kubedl::testing::FreeLoopbackPort();
  auto ready = std::make_shared<std::atomic<bool>>(true);
  absl::StatusOr<std::unique_ptr<HttpServer>> on = StartHealthServer(
      "127.0.0.1", port,
      HealthRoutes(std::make_shared<prometheus::Registry>(), ready, "starting\n"));
  ASSERT_TRUE(on.ok()) << on.status();
  ASSERT_NE(*on, nullptr);
  EXPECT_EQ((*on)->port(), port);
  EXPECT_EQ(kubedl::testing::HttpGet(port, "/readyz").status, 200);
  (*on)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace kubedl::common
