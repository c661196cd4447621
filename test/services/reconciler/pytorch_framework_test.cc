#include "core/framework.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

api::Job PyJob(const std::string& replicas, const std::string& extra_spec = "") {
  return KindJob(api::JobKind::kPyTorchJob, replicas, extra_spec);
}

api::Json Decorated(const api::Job& job, const std::string& type, int64_t index) {
  api::Json pod = PodFor(job, type);
  FrameworkOptions options{.master_wait_image = "busybox:test", .master_wait_retries = 7,
                           .master_wait_interval_seconds = 3};
  EXPECT_TRUE(FrameworkFor(api::JobKind::kPyTorchJob).DecoratePod(job, type, index, options, pod).ok());
  return pod;
}

const std::string kMasterAndWorkers =
    R"({"Master":)" + Replica(1, "pytorch") + R"(,"Worker":)" + Replica(3, "pytorch") + "}";

TEST(PyTorchFramework, MasterEnvOnEveryContainerWithWorkerRankOffset) {
  api::Job job = PyJob(kMasterAndWorkers);
  api::Json worker = Decorated(job, "Worker", 1);
  ExpectEnv(worker["spec"]["containers"][0],
            {{"MASTER_ADDR", "pt-master-0"}, {"PET_MASTER_ADDR", "pt-master-0"},
             {"MASTER_PORT", "23456"}, {"PET_MASTER_PORT", "23456"}, {"WORLD_SIZE", "4"},
             {"RANK", "2"}, {"PET_NODE_RANK", "2"}, {"PET_NNODES", "4"},
             {"PYTHONUNBUFFERED", "1"}});
  api::Json master = Decorated(job, "Master", 0);
  EXPECT_EQ(Env(master["spec"]["containers"][0], "RANK"), "0");
}

TEST(PyTorchFramework, WorldSizeMultipliesNumericProcsPerNode) {
  api::Job job = PyJob(kMasterAndWorkers, R"("nprocPerNode":"2",)");
  const api::Json pod = Decorated(job, "Worker", 0);
  const api::Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(Env(c, "WORLD_SIZE"), "8");
  EXPECT_EQ(Env(c, "PET_NPROC_PER_NODE"), "2");
  api::Job automatic = PyJob(kMasterAndWorkers, R"("nprocPerNode":"auto",)");
  const api::Json automatic_pod = Decorated(automatic, "Worker", 0);
  EXPECT_EQ(Env(automatic_pod["spec"]["containers"][0], "WORLD_SIZE"), "4");
}

TEST(PyTorchFramework, WorkersWaitForTheMastersDnsName) {
  api::Job job = PyJob(kMasterAndWorkers);
  api::Json worker = Decorated(job, "Worker", 0);
  ASSERT_EQ(worker["spec"]["initContainers"].size(), 1u);
  const api::Json& init = worker["spec"]["initContainers"][0];
  EXPECT_EQ(init["image"], "busybox:test");
  const std::string script = init["command"][2];
  EXPECT_NE(script.find("seq 7"), std::string::npos);
  EXPECT_NE(script.find("nslookup pt-master-0"), std::string::npos);
  EXPECT_NE(script.find("sleep 3"), std::string::npos);
  EXPECT_FALSE(Decorated(job, "Master", 0)["spec"].contains("initContainers"));
}

// Runs the init container's script with `nslookup` and `sleep` replaced by NSLOOKUP (a shell
// body) and a no-op; returns the script's exit code.
int RunMasterWait(const std::string& nslookup) {
  api::Job job = PyJob(kMasterAndWorkers);
  const std::string script = Decorated(job, "Worker", 0)["spec"]["initContainers"][0]["command"][2];
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kubedl-master-wait-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "nslookup") << "#!/bin/sh\n" << nslookup << "\n";
  std::ofstream(dir / "sleep") << "#!/bin/sh\nexit 0\n";
  std::ofstream(dir / "script.sh") << script << "\n";
  std::filesystem::permissions(dir / "nslookup", std::filesystem::perms::owner_all);
  std::filesystem::permissions(dir / "sleep", std::filesystem::perms::owner_all);
  const std::string command = "PATH=" + dir.string() + ":/usr/bin:/bin sh " +
                              (dir / "script.sh").string() + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  std::filesystem::remove_all(dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PyTorchFramework, MasterWaitPassesOnAnAnswerEvenWhenBusyboxExitsOneForASearchDomain) {
  // busybox 1.36: the answer from the first search domain, NXDOMAIN from another, exit 1.
  EXPECT_EQ(RunMasterWait("printf 'Server:\\t\\t10.0.0.10\\nAddress:\\t10.0.0.10:53\\n\\n"
                          "Name:\\tpt-master-0.ns.svc.cluster.local\\nAddress: 10.1.0.4\\n\\n'; "
                          "echo \"** server can't find pt-master-0.cluster.local: NXDOMAIN\" >&2; "
                          "exit 1"),
            0);
  // busybox 1.28: the answer and exit 0.
  EXPECT_EQ(RunMasterWait("printf 'Server:    10.0.0.10\\nAddress 1: 10.0.0.10\\n\\n"
                          "Name:      pt-master-0\\nAddress 1: 10.1.0.4\\n'"),
            0);
  // No answer at all, every try: the worker gives up after the retries.
  EXPECT_EQ(RunMasterWait("printf 'Server:\\t\\t10.0.0.10\\nAddress:\\t10.0.0.10:53\\n\\n'; "
                          "echo \"** server can't find pt-master-0: NXDOMAIN\" >&2; exit 1"),
            1);
}

TEST(PyTorchFramework, ElasticWorkersGetOnlyTheRendezvousEnvInOrder) {
  api::Job job = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}",
                       R"("elasticPolicy":{"minReplicas":1,"maxReplicas":3,"rdzvBackend":"c10d",
                          "maxRestarts":5,"rdzvId":"run1","rdzvConf":[{"key":"timeout","value":"60"}],
                          "standalone":true},)");
  for (int64_t index : {0, 1}) {
    EXPECT_EQ(Decorated(job, "Worker", index)["spec"]["containers"][0]["env"].dump(),
              R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
              R"({"name":"PET_NPROC_PER_NODE","value":"auto"},)"  // defaulted
              R"({"name":"PET_RDZV_ENDPOINT","value":"pt-worker-0:23456"},)"
              R"({"name":"PET_RDZV_BACKEND","value":"c10d"},)"
              R"({"name":"PET_NNODES","value":"1:3"},)"
              R"({"name":"PET_MAX_RESTARTS","value":"5"},)"
              R"({"name":"PET_RDZV_ID","value":"run1"},)"
              R"({"name":"PET_RDZV_CONF","value":"timeout=60"},)"
              R"({"name":"PET_STANDALONE","value":"1"}])")
        << "worker " << index;
  }
}

TEST(PyTorchFramework, WithAMasterEveryPodGetsTheMasterAndItsRankInOrder) {
  api::Job job = PyJob(kMasterAndWorkers);
  EXPECT_EQ(Decorated(job, "Worker", 1)["spec"]["containers"][0]["env"].dump(),
            R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
            R"({"name":"MASTER_ADDR","value":"pt-master-0"},)"
            R"({"name":"PET_MASTER_ADDR","value":"pt-master-0"},)"
            R"({"name":"MASTER_PORT","value":"23456"},)"
            R"({"name":"PET_MASTER_PORT","value":"23456"},)"
            R"({"name":"WORLD_SIZE","value":"4"},)"
            R"({"name":"RANK","value":"2"},)"
            R"({"name":"PET_NODE_RANK","value":"2"},)"
            R"({"name":"PET_NPROC_PER_NODE","value":"auto"},)"  // defaulted
            R"({"name":"PET_NNODES","value":"4"}])");
}

TEST(PyTorchFramework, WithoutAMasterTorchrunAssignsRanksAndNoWorldSizeIsFixed) {
  api::Job job = PyJob(R"({"Worker":)" + Replica(3, "pytorch") + "}", R"("nprocPerNode":"2",)");
  for (int64_t index : {0, 1, 2}) {
    api::Json pod = Decorated(job, "Worker", index);
    EXPECT_EQ(pod["spec"]["containers"][0]["env"].dump(),
              R"([{"name":"PYTHONUNBUFFERED","value":"1"},)"
              R"({"name":"PET_NPROC_PER_NODE","value":"2"},)"
              R"({"name":"PET_NNODES","value":"3"}])")
        << "worker " << index;
    EXPECT_FALSE(pod["spec"].contains("initContainers"));
  }
}

TEST(PyTorchFramework, WithoutAMasterWorkerZeroCarriesTheMasterRole) {
  const Framework& pt = FrameworkFor(api::JobKind::kPyTorchJob);
  api::Job workers_only = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}");
  EXPECT_TRUE(pt.IsMaster(workers_only, "Worker", 0));
  EXPECT_FALSE(pt.IsMaster(workers_only, "Worker", 1));
  api::Job with_master = PyJob(kMasterAndWorkers);
  EXPECT_TRUE(pt.IsMaster(with_master, "Master", 0));
  EXPECT_FALSE(pt.IsMaster(with_master, "Worker", 0));
}

TEST(PyTorchFramework, SuccessFollowsMasterElseAllWorkersElseAnyElasticWorker) {
  const Framework& pt = FrameworkFor(api::JobKind::kPyTorchJob);
  ReplicaStates states;
  states["Master"] = {.replicas = 1, .active = 0, .succeeded = 1};
  states["Worker"] = {.replicas = 3, .active = 3};
  EXPECT_EQ(pt.Progress(PyJob(kMasterAndWorkers), states), JobProgress::kSucceeded);

  api::Job workers_only = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}");
  ReplicaStates w;
  w["Worker"] = {.replicas = 2, .active = 1, .succeeded = 1};
  EXPECT_EQ(pt.Progress(workers_only, w), JobProgress::kRunning);
  w["Worker"] = {.replicas = 2, .active = 0, .succeeded = 2};
  EXPECT_EQ(pt.Progress(workers_only, w), JobProgress::kSucceeded);

  api::Job elastic = PyJob(R"({"Worker":)" + Replica(2, "pytorch") + "}",
                           R"("elasticPolicy":{"minReplicas":1,"maxReplicas":2},)");
  w["Worker"] = {.replicas = 2, .active = 1, .succeeded = 1};
  EXPECT_EQ(pt.Progress(elastic, w), JobProgress::kSucceeded);
}

}  // namespace
}  // namespace kubedl::reconciler::testing
