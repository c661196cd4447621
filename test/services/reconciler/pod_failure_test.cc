#include "core/pod_failure.h"

#include "gtest/gtest.h"

namespace kubedl::reconciler {
namespace {

kube::Object FailedPod(const std::string& container, int code, const std::string& reason = "Error",
                       const std::string& pod_reason = "") {
  kube::Object pod = {{"status", {{"phase", "Failed"},
                                  {"containerStatuses",
                                   {{{"name", "sidecar"},
                                     {"restartCount", 1},
                                     {"state", {{"terminated", {{"exitCode", 0}}}}}},
                                    {{"name", container},
                                     {"restartCount", 2},
                                     {"state", {{"terminated",
                                                 {{"exitCode", code}, {"reason", reason}}}}}}}}}}};
  if (!pod_reason.empty()) pod["status"]["reason"] = pod_reason;
  return pod;
}

const api::KindDescriptor& Tf() { return api::Describe(api::JobKind::kTFJob); }

TEST(PodFailure, ExitCodeComesFromTheFrameworkContainer) {
  PodFailure f = ClassifyFailure(FailedPod("tensorflow", 1), Tf());
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_FALSE(f.retryable);
}

TEST(PodFailure, TheTerminationMessagesLastLineIsKeptCutToItsBound) {
  kube::Object pod = FailedPod("tensorflow", 1);
  auto& terminated = pod["status"]["containerStatuses"][1]["state"]["terminated"];
  terminated["message"] =
      "Traceback (most recent call last):\n  File \"train.py\", line 9, in <module>\n"
      "    raise ValueError(\"loss is nan at step 3\")\nValueError: loss is nan at step 3\n\n";
  EXPECT_EQ(ClassifyFailure(pod, Tf()).message, "ValueError: loss is nan at step 3");
  EXPECT_EQ(ClassifyFailure(FailedPod("tensorflow", 1), Tf()).message, "") << "no message";
  terminated["message"] = " \n\t\n";
  EXPECT_EQ(ClassifyFailure(pod, Tf()).message, "");
  // A long line is cut at the bound, never inside a UTF-8 character ("é" is two bytes).
  std::string long_line = "x";
  for (int i = 0; i < 200; ++i) long_line += "\xC3\xA9";
  terminated["message"] = long_line;
  const std::string cut = ClassifyFailure(pod, Tf()).message;
  EXPECT_EQ(cut.size(), kMaxFailureMessage - 1);
  EXPECT_EQ(cut, long_line.substr(0, kMaxFailureMessage - 1));
}

// An MPIJob names no container; `mainContainer` is the one whose exit decides (decision 13.3),
// else the first, as the sidecar is here.
TEST(PodFailure, AnMpiJobsMainContainerDecidesElseTheFirst) {
  api::Job job;
  job.kind = api::JobKind::kMPIJob;
  job.spec.main_container = "mpi";
  EXPECT_EQ(ClassifyFailure(FailedPod("mpi", 3), job).exit_code, 3);
  job.spec.main_container.reset();
  EXPECT_EQ(ClassifyFailure(FailedPod("mpi", 3), job).exit_code, 0);
}

TEST(PodFailure, SignalExitCodesAreRetryable) {
  PodFailure f = ClassifyFailure(FailedPod("tensorflow", 137), Tf());
  EXPECT_EQ(f.exit_code, 137);
  EXPECT_TRUE(f.retryable);
}

TEST(PodFailure, OomKilledEvictedAndNodeLostAreRetryable) {
  EXPECT_TRUE(ClassifyFailure(FailedPod("tensorflow", 1, "OOMKilled"), Tf()).retryable);
  EXPECT_TRUE(ClassifyFailure(FailedPod("tensorflow", 1, "Error", "Evicted"), Tf()).retryable);
  EXPECT_TRUE(ClassifyFailure(FailedPod("tensorflow", 1, "Error", "NodeLost"), Tf()).retryable);
}

TEST(PodFailure, PodWithoutStatusesHasNoExitCode) {
  PodFailure f = ClassifyFailure(kube::Object{{"status", {{"phase", "Failed"}}}}, Tf());
  EXPECT_EQ(f.exit_code, -1);
  EXPECT_FALSE(f.retryable);
}

TEST(PodFailure, ContainerRestartsAreSummed) {
  EXPECT_EQ(ContainerRestarts(FailedPod("tensorflow", 1)), 3);
  EXPECT_EQ(ContainerRestarts(kube::Object::object()), 0);
}

}  // namespace
}  // namespace kubedl::reconciler
