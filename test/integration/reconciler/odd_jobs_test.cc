// Issue 13, "no job, however malformed, can stop a service", against the real API server with no
// webhook: a dozen TFJobs the CRD schema accepts but SPEC §3 refuses (the poison manifest
// applied with kubectl as it is written, replica counts of 2147483647, 100000 and -1, an unknown
// replica type, an empty spec, a 63-character name, negative TTL and deadline, and templates of
// the wrong JSON types). Each must fail with reason TFJobFailedValidation and the field path in its message,
// get no pod and a Warning event, the TTL job must stay, and the same reconciler process must go
// on to run a normal job.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/object.h"
#include "test/integration/reconciler/reconciler_fixture.h"
#include "test/lib/api/pod_schema_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

using kube::Object;
using ::testing::HasSubstr;

class OddJobsTest : public ReconcilerTest {};

Object Container() {
  return {{"name", "tensorflow"},
          {"image", "busybox"},
          {"ports", Object::array({{{"name", "tfjob-port"}, {"containerPort", 2222}}})}};
}
Object WorkerWith(Object container, Object pod_spec_extra = Object::object(),
                  Object template_metadata = Object::object()) {
  Object spec = {{"containers", Object::array({std::move(container)})}};
  for (auto& [k, v] : pod_spec_extra.items()) spec[k] = v;
  Object tmpl = {{"spec", spec}};
  if (!template_metadata.empty()) tmpl["metadata"] = template_metadata;
  return {{"Worker", {{"replicas", 1}, {"restartPolicy", "Never"}, {"template", tmpl}}}};
}
Object Workers(int64_t replicas) {
  Object w = WorkerWith(Container());
  w["Worker"]["replicas"] = replicas;
  return w;
}

struct OddJob {
  std::string name;
  Object job;        // null: the poison manifest, applied with kubectl
  std::string path;  // the field path the message must name
};

std::vector<OddJob> OddJobs() {
  const std::string long_name = "a-job-name-of-exactly-sixty-three-characters-for-the-limit-wxyz";
  std::vector<OddJob> jobs = {
      {"poison", nullptr,
       "spec.tfReplicaSpecs[Worker].template.spec.containers[0].ports[0].containerPort"},
      {"replicas-max-int32", TfJob("replicas-max-int32", Workers(2147483647)),
       "spec.tfReplicaSpecs[Worker].replicas"},
      {"replicas-100000", TfJob("replicas-100000", Workers(100000)),
       "spec.tfReplicaSpecs[Worker].replicas"},
      {"replicas-negative", TfJob("replicas-negative", Workers(-1)),
       "spec.tfReplicaSpecs[Worker].replicas"},
      {"type-foo",
       TfJob("type-foo", {{"Foo", {{"replicas", 1}, {"template", TfTemplate()}}}}),
       "spec.tfReplicaSpecs[Foo]"},
      {"empty-spec", nullptr, "spec.tfReplicaSpecs"},
      {long_name, TfJob(long_name, Workers(1)), "metadata.name"},
      {"negative-ttl",
       TfJob("negative-ttl", Workers(1),
             {{"ttlSecondsAfterFinished", -1}, {"activeDeadlineSeconds", -5}}),
       "spec.runPolicy.ttlSecondsAfterFinished"},
      {"env-map", nullptr, "spec.tfReplicaSpecs[Worker].template.spec.containers[0].env"},
      {"args-number", nullptr, "spec.tfReplicaSpecs[Worker].template.spec.containers[0].args"},
      {"node-selector-list", TfJob("node-selector-list",
                                   WorkerWith(Container(), {{"nodeSelector", {"pool=gpu"}}})),
       "spec.tfReplicaSpecs[Worker].template.spec.nodeSelector"},
      {"labels-not-strings",
       TfJob("labels-not-strings",
             WorkerWith(Container(), Object::object(), {{"labels", {{"gpus", 8}}}})),
       "spec.tfReplicaSpecs[Worker].template.metadata.labels"},
      {"code-sync-junk", TfJob("code-sync-junk", Workers(1)),
       "metadata.annotations[kubedl.io/git-sync-config]"},
  };
  for (OddJob& j : jobs) {
    if (j.name == "empty-spec") {
      j.job = {{"apiVersion", "kubeflow.org/v1"}, {"kind", "TFJob"},
               {"metadata", {{"name", "empty-spec"}}}, {"spec", Object::object()}};
    } else if (j.name == "env-map") {
      Object c = Container();
      c["env"] = {{"MODE", "train"}};
      j.job = TfJob("env-map", WorkerWith(c));
    } else if (j.name == "args-number") {
      Object c = Container();
      c["args"] = Object::array({"--epochs", 3});
      j.job = TfJob("args-number", WorkerWith(c));
    } else if (j.name == "code-sync-junk") {
      j.job["metadata"]["annotations"] = {{"kubedl.io/git-sync-config", "{not json"}};
    }
  }
  return jobs;
}

// Sample values of a counter family on the reconciler's /metrics.
double CounterTotal(int port, const std::string& family) {
  const HttpAnswer metrics = HttpGet(port, "/metrics");
  if (metrics.status != 200) return -1;
  const std::string& body = metrics.body;
  double total = 0;
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (!absl::StartsWith(line, family) || line.size() <= family.size() ||
        (line[family.size()] != '{' && line[family.size()] != ' ')) {
      continue;
    }
    total += std::strtod(std::string(line.substr(line.rfind(' ') + 1)).c_str(), nullptr);
  }
  return total;
}

TEST_F(OddJobsTest, OddJobsFailWithFailedValidationAndTheReconcilerKeepsRunning) {
  ASSERT_NE(reconciler_, nullptr);
  const pid_t pid = reconciler_->pid();
  std::vector<OddJob> accepted;
  for (OddJob& odd : OddJobs()) {
    if (odd.job.is_null()) {
      // The manifest as a user would apply it.
      const std::string file = ::testing::TempDir() + kubedl::testing::RandomName("poison") + ".yaml";
      std::ofstream(file) << kubedl::api::testing::kPoison;  // pod_schema_fixtures.h
      const std::string apply = absl::StrCat(Env("KUBECTL", "kubectl"), " apply -n ", ns(),
                                             " -f ", file, " >/dev/null");
      ASSERT_EQ(std::system(apply.c_str()), 0) << apply;
      std::remove(file.c_str());
      accepted.push_back(odd);
      continue;
    }
    absl::StatusOr<Object> created;
    kubedl::testing::Eventually([&] {  // a CRD just established may answer 404 for a moment
      created = client().Create(kTfJobs, ns(), odd.job);
      return created.ok() || !kube::IsNotFound(created.status());
    });
    if (!created.ok()) {
      // The CRD schema itself refuses this shape: nothing for the reconciler to see.
      std::cout << "[odd jobs] the API server refuses " << odd.name << ": " << created.status()
                << "\n";
      continue;
    }
    accepted.push_back(odd);
  }
  EXPECT_EQ(accepted.size(), OddJobs().size()) << "the CRD refused some shapes (printed above)";

  for (const OddJob& odd : accepted) {
    SCOPED_TRACE(odd.name);
    Object job = WaitForCondition(odd.name, "Failed", "True", absl::Seconds(60));
    Object failed = Condition(job, "Failed");
    std::cout << "[odd jobs] " << odd.name << ": " << failed.value("reason", "") << ": "
              << failed.value("message", "") << "\n";
    EXPECT_EQ(failed.value("reason", ""), "TFJobFailedValidation");
    EXPECT_THAT(failed.value("message", ""), HasSubstr(odd.path));
    EXPECT_TRUE(ConditionIs(job, "Running", "False") || Condition(job, "Running").is_null());
    EXPECT_TRUE(kubedl::testing::Eventually([&] {
      kube::ListOptions options;
      options.field_selector = "involvedObject.name=" + odd.name;
      auto events = client().List(kube::resources::Events(), ns(), options);
      if (!events.ok()) return false;
      for (const Object& e : events->items) {
        if (e.value("reason", "") == "TFJobFailedValidation" && e.value("type", "") == "Warning" &&
            e.value("message", "").find(odd.path) != std::string::npos) {
          return true;
        }
      }
      return false;
    })) << "no Warning event TFJobFailedValidation naming " << odd.path;
  }
  if (HasFailure()) return;

  // Nothing was made for any of them, and nothing is being made.
  absl::SleepFor(absl::Seconds(3));
  for (const OddJob& odd : accepted) {
    EXPECT_TRUE(Pods(odd.name).empty()) << odd.name;
    EXPECT_TRUE(Services(odd.name).empty()) << odd.name;
  }
  // ttlSecondsAfterFinished -1 did not delete the job it failed.
  EXPECT_FALSE(GetJob("negative-ttl").is_null());

  // The same process, never restarted, none of its reconciles threw, and it runs a normal job.
  EXPECT_TRUE(reconciler_->Alive());
  EXPECT_EQ(reconciler_->pid(), pid);
  EXPECT_EQ(CounterTotal(reconciler_->metrics_port(),
                         "kubedl_reconciler_reconcile_exceptions_total"),
            0);
  CreateJob(TfJob("normal", {{"Worker", Replica(1, "Never")}}));
  ASSERT_TRUE(WaitForPods("normal", {"normal-worker-0"}, "Running"));
  Object normal = WaitForCondition("normal", "Running");
  EXPECT_FALSE(ConditionIs(normal, "Failed"));
  EXPECT_TRUE(reconciler_->Alive());
  EXPECT_EQ(reconciler_->pid(), pid);
}

}  // namespace
}  // namespace kubedl::reconciler::testing
