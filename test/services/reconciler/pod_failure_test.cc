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
