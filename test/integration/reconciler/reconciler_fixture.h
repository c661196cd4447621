#pragma once

// A namespace of its own, the TFJob CRD, and a real kubedl-reconciler watching only that
// namespace, for each test; helpers that create jobs and wait for what the reconciler does.

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"
#include "kubedl/testing/cluster.h"
#include "test/integration/reconciler/reconciler_harness.h"

namespace kubedl::reconciler::testing {

class ReconcilerTest : public kubedl::testing::ClusterTest {
 protected:
  static void SetUpTestSuite() { EnsureJobCrds(); }

  std::string NamespacePrefix() const override { return "reconciler-it"; }

  // A reconciler for this test's namespace, leader election off unless `flags` say otherwise.
  std::unique_ptr<ReconcilerProcess> StartReconciler(std::vector<std::string> flags = {
                                                         "--leader-elect=false"}) {
    flags.push_back("--namespace=" + ns());
    flags.push_back("--workloads=TFJob");
    auto process = std::make_unique<ReconcilerProcess>(std::move(flags));
    EXPECT_TRUE(process->Start()) << process->LogTail();
    return process;
  }

  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    if (StartsReconciler()) reconciler_ = StartReconciler();
  }
  void TearDown() override {
    if (HasFailure() && reconciler_ != nullptr) {
      ADD_FAILURE() << "reconciler log " << reconciler_->log_path() << ":\n"
                    << reconciler_->LogTail();
    }
    reconciler_.reset();
    ClusterTest::TearDown();
  }
  virtual bool StartsReconciler() const { return true; }

  kube::Object CreateJob(const kube::Object& job) {
    absl::StatusOr<kube::Object> created;
    // A CRD just established may answer 404 for a moment.
    kubedl::testing::Eventually(
        [&] {
          created = client().Create(kTfJobs, ns(), job);
          return created.ok() || !kube::IsNotFound(created.status());
        },
        absl::Seconds(20));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : kube::Object();
  }

  kube::Object GetJob(const std::string& name) {
    absl::StatusOr<kube::Object> job = client().Get(kTfJobs, ns(), name);
    return job.ok() ? *job : kube::Object();
  }

  // Waits until the job has condition `type` with `status`; returns the job as last read.
  kube::Object WaitForCondition(const std::string& name, const std::string& type,
                                const std::string& status = "True",
                                absl::Duration timeout = absl::Seconds(120)) {
    kube::Object job;
    const bool reached = kubedl::testing::Eventually(
        [&] {
          job = GetJob(name);
          return ConditionIs(job, type, status);
        },
        timeout);
    EXPECT_TRUE(reached) << name << " never had " << type << "=" << status << "; status: "
                         << job.value("status", kube::Object::object()).dump();
    return job;
  }

  std::vector<kube::Object> Pods(const std::string& job) {
    return ListByJob(client(), kube::resources::Pods(), ns(), job);
  }
  std::vector<kube::Object> Services(const std::string& job) {
    return ListByJob(client(), kube::resources::Services(), ns(), job);
  }

  static std::set<std::string> Names(const std::vector<kube::Object>& objects,
                                     bool live_only = false) {
    std::set<std::string> names;
    for (const kube::Object& o : objects) {
      if (live_only && o["metadata"].contains("deletionTimestamp")) continue;
      names.insert(kube::Name(o));
    }
    return names;
  }

  // Waits until the job's pods (not being deleted) are exactly `names`, all in `phase` when set.
  bool WaitForPods(const std::string& job, const std::set<std::string>& names,
                   const std::string& phase = "", absl::Duration timeout = absl::Seconds(120)) {
    std::set<std::string> seen;
    const bool ok = kubedl::testing::Eventually(
        [&] {
          std::vector<kube::Object> pods = Pods(job);
          seen = Names(pods, /*live_only=*/true);
          if (seen != names) return false;
          return phase.empty() || std::ranges::all_of(pods, [&](const kube::Object& p) {
                   return p["metadata"].contains("deletionTimestamp") ||
                          p.value("status", kube::Object::object()).value("phase", "") == phase;
                 });
        },
        timeout);
    if (!ok) {
      std::string got;
      for (const auto& n : seen) got += n + " ";
      ADD_FAILURE() << job << ": pods never became the expected set" << (phase.empty() ? "" : " in ")
                    << phase << "; last seen: " << got;
    }
    return ok;
  }

  // Makes a running pod finish with `code` (KWOK stage kubedl-pod-exit).
  void ExitPod(const std::string& pod, int code) {
    absl::StatusOr<kube::Object> patched = client().Patch(
        kube::resources::Pods(), ns(), pod, kube::PatchType::kMerge,
        {{"metadata",
          {{"annotations",
            {{"kwok.kubedl.io/exit-code", std::to_string(code)}, {"kwok.kubedl.io/run-for", "0s"}}}}}});
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  void PatchJobSpec(const std::string& name, const kube::Object& spec_patch) {
    absl::StatusOr<kube::Object> patched = client().Patch(kTfJobs, ns(), name,
                                                          kube::PatchType::kMerge,
                                                          {{"spec", spec_patch}});
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  std::unique_ptr<ReconcilerProcess> reconciler_;
};

}  // namespace kubedl::reconciler::testing
