// The reconciler killed with SIGKILL while it creates pods, twice, and two reconcilers electing
// a leader: afterwards every job has exactly its pods, none twice, none missing.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kubedl/kube/object.h"
#include "test/integration/reconciler/reconciler_fixture.h"

namespace kubedl::reconciler::testing {
namespace {

using kube::Object;

class ReconcilerResilienceTest : public ReconcilerTest {
 protected:
  bool StartsReconciler() const override { return false; }

  // Every pod and service of the namespace, by the job that controls it.
  std::map<std::string, std::vector<Object>> ByJob(const kube::ResourceRef& ref) {
    std::map<std::string, std::vector<Object>> out;
    kube::ListOptions options;
    options.label_selector = "training.kubeflow.org/operator-name=tfjob-controller";
    auto list = client().List(ref, ns(), options);
    EXPECT_TRUE(list.ok()) << list.status();
    if (!list.ok()) return out;
    for (const Object& o : list->items) {
      out[o["metadata"]["labels"].value("training.kubeflow.org/job-name", "")].push_back(o);
    }
    return out;
  }

  size_t CountPods() {
    size_t n = 0;
    for (const auto& [job, pods] : ByJob(kube::resources::Pods())) n += pods.size();
    return n;
  }

  // Each job has exactly `worker-0..workers-1`, each owned once by that job's UID.
  void ExpectExactlyTheirObjects(const kube::ResourceRef& ref,
                                 const std::map<std::string, std::string>& uids, int workers) {
    auto by_job = ByJob(ref);
    EXPECT_EQ(by_job.size(), uids.size());
    for (const auto& [job, uid] : uids) {
      SCOPED_TRACE(job);
      std::set<std::string> want;
      for (int i = 0; i < workers; ++i) want.insert(absl::StrCat(job, "-worker-", i));
      EXPECT_EQ(Names(by_job[job]), want);
      EXPECT_EQ(by_job[job].size(), static_cast<size_t>(workers));
      for (const Object& o : by_job[job]) {
        const Object& refs = o["metadata"]["ownerReferences"];
        ASSERT_EQ(refs.size(), 1u) << kube::Name(o);
        EXPECT_EQ(refs[0].value("uid", ""), uid) << kube::Name(o);
      }
    }
  }
};

TEST_F(ReconcilerResilienceTest, KilledTwiceWhileCreatingPodsEveryJobEndsWithExactlyItsPods) {
  constexpr int kJobs = 50;
  constexpr int kWorkers = 2;
  std::map<std::string, std::string> uids;
  for (int i = 0; i < kJobs; ++i) {
    const std::string name = absl::StrCat("crash-", i);
    // Pods finish 3 s after they run; with AllWorkers the job succeeds only once every worker
    // has, so a missing pod would keep it from succeeding.
    Object manifest = TfJob(name, {{"Worker", Replica(kWorkers, "ExitCode", TfTemplate(0, "3s"))}});
    manifest["spec"]["successPolicy"] = "AllWorkers";
    Object job = CreateJob(manifest);
    uids[name] = kube::Uid(job);
  }
  // Slow the creates down (client-side rate limit) so the kills land mid-way.
  const std::vector<std::string> flags = {"--leader-elect=false", "--kube-api-qps=40",
                                          "--kube-api-burst=10"};
  std::vector<std::string> logs;
  for (size_t kill_after : {15u, 55u}) {
    auto process = StartReconciler(flags);
    logs.push_back(process->log_path());
    ASSERT_TRUE(kubedl::testing::Eventually([&] { return CountPods() >= kill_after; },
                                            absl::Seconds(60)))
        << process->LogTail();
    process->Kill();
    EXPECT_LT(CountPods(), static_cast<size_t>(kJobs * kWorkers)) << "the kill came too late";
  }
  reconciler_ = StartReconciler(flags);

  for (const auto& [name, uid] : uids) {
    EXPECT_TRUE(ConditionIs(WaitForCondition(name, "Succeeded", "True", absl::Seconds(180)),
                            "Succeeded"))
        << name;
  }
  ExpectExactlyTheirObjects(kube::resources::Pods(), uids, kWorkers);
  ExpectExactlyTheirObjects(kube::resources::Services(), uids, kWorkers);
  for (const auto& [name, uid] : uids) {
    Object job = GetJob(name);
    EXPECT_EQ(job["status"]["replicaStatuses"]["Worker"].value("succeeded", 0), kWorkers) << name;
    EXPECT_FALSE(job["metadata"].value("annotations", Object::object()).contains(
        "kubedl.io/recreations"))
        << name << " had pods recreated";
  }
}

TEST_F(ReconcilerResilienceTest, TwoReconcilersOneLeadsAndTheOtherTakesOverWithoutDuplicates) {
  const std::vector<std::string> flags = {
      "--leader-elect=true", "--leader-elect-namespace=" + ns(),
      "--leader-elect-name=kubedl-reconciler-it", "--leader-elect-lease-duration=4s",
      "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms"};
  auto first = StartReconciler(flags);
  auto second = StartReconciler(flags);
  // Both are ready: the leader reconciles, the other stands by.
  const kube::ResourceRef leases{"coordination.k8s.io", "v1", "leases", true};
  std::string holder;
  ASSERT_TRUE(kubedl::testing::Eventually([&] {
    auto lease = client().Get(leases, ns(), "kubedl-reconciler-it");
    if (!lease.ok()) return false;
    holder = lease->value("spec", Object::object()).value("holderIdentity", "");
    return !holder.empty();
  }));
  ReconcilerProcess* leader = nullptr;
  ReconcilerProcess* standby = nullptr;
  for (auto [a, b] : {std::pair{first.get(), second.get()}, std::pair{second.get(), first.get()}}) {
    if (holder.ends_with(absl::StrCat("_", a->pid()))) {
      leader = a;
      standby = b;
    }
  }
  ASSERT_NE(leader, nullptr) << "lease held by " << holder;

  Object before = CreateJob(TfJob("led", {{"Worker", Replica(3, "Never")}}));
  ASSERT_TRUE(WaitForPods("led", {"led-worker-0", "led-worker-1", "led-worker-2"}));
  std::map<std::string, std::string> pod_uids;
  for (const Object& p : Pods("led")) pod_uids[kube::Name(p)] = kube::Uid(p);

  leader->Kill();
  // The standby takes the lease once it expires and reconciles new work.
  Object after = CreateJob(TfJob("after-failover", {{"Worker", Replica(2, "Never")}}));
  EXPECT_TRUE(WaitForPods("after-failover", {"after-failover-worker-0", "after-failover-worker-1"}))
      << standby->LogTail();
  EXPECT_TRUE(standby->Alive());
  auto lease = client().Get(leases, ns(), "kubedl-reconciler-it");
  ASSERT_TRUE(lease.ok());
  EXPECT_TRUE(lease->value("spec", Object::object())
                  .value("holderIdentity", "")
                  .ends_with(absl::StrCat("_", standby->pid())));
  // The first job's pods are the very same pods: nothing was created twice.
  std::map<std::string, std::string> now;
  for (const Object& p : Pods("led")) now[kube::Name(p)] = kube::Uid(p);
  EXPECT_EQ(now, pod_uids);
  for (const Object& p : Pods("led")) {
    EXPECT_EQ(p["metadata"]["ownerReferences"][0].value("uid", ""), kube::Uid(before));
  }
  for (const Object& p : Pods("after-failover")) {
    EXPECT_EQ(p["metadata"]["ownerReferences"][0].value("uid", ""), kube::Uid(after));
  }
}

}  // namespace
}  // namespace kubedl::reconciler::testing
