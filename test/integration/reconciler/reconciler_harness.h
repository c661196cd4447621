#pragma once

// The real kubedl-reconciler process for integration tests, plus what the tests read back from
// the API server. The binary comes from $KUBEDL_BUILD_DIR (else the path CMake compiled in);
// output goes to a log file the failure messages name.
//
//   ReconcilerProcess r({"--namespace=" + ns(), "--leader-elect=false"});
//   ASSERT_TRUE(r.Start());          // waits for /readyz
//   r.Kill();                        // SIGKILL, no goodbye
//   r.Signal(SIGTERM); r.WaitExit(absl::Seconds(5));   // a graceful stop and its wait status

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/testing/cluster.h"
#include "kubedl/testing/service_process.h"

namespace kubedl::reconciler::testing {

using kubedl::testing::FreeLoopbackPort;
using kubedl::testing::HttpAnswer;
using kubedl::testing::HttpGet;

inline const kube::ResourceRef kTfJobs{"kubeflow.org", "v1", "tfjobs", true};

inline std::string Env(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

inline std::string ReconcilerBinary() {
  const std::string build = Env("KUBEDL_BUILD_DIR");
  if (!build.empty()) {
    const std::string path = build + "/services/reconciler/kubedl-reconciler";
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return KUBEDL_RECONCILER_BINARY;
}

// Applies the chart's CRDs with server-side apply (idempotent; parallel tests do not race on a
// create) and waits until they are served.
inline void EnsureJobCrds() {
  absl::Status applied = kubedl::testing::ApplyCrds("charts/kubedl/crds/");
  ASSERT_TRUE(applied.ok()) << applied;
}

// Signal, WaitExit, Blocks, Alive, LogTail and the log file come from ServiceProcess.
class ReconcilerProcess : public kubedl::testing::ServiceProcess {
 public:
  explicit ReconcilerProcess(std::vector<std::string> flags)
      : ServiceProcess(::testing::TempDir() + kubedl::testing::RandomName("kubedl-reconciler") +
                       ".log"),
        flags_(std::move(flags)),
        health_port_(FreeLoopbackPort()),
        metrics_port_(FreeLoopbackPort()) {}

  // Spawns the process; with `wait_ready`, returns true once /readyz answers 200.
  bool Start(bool wait_ready = true, absl::Duration timeout = absl::Seconds(60)) {
    std::vector<std::string> args = {ReconcilerBinary(),
                                     "--kubeconfig=" + Env("KUBECONFIG"),
                                     "--bind-address=127.0.0.1",
                                     absl::StrCat("--health-port=", health_port_),
                                     absl::StrCat("--metrics-port=", metrics_port_)};
    args.insert(args.end(), flags_.begin(), flags_.end());
    if (!Spawn(std::move(args))) return false;
    return !wait_ready || WaitUntilReady(health_port_, timeout, absl::Milliseconds(50));
  }

  int health_port() const { return health_port_; }
  int metrics_port() const { return metrics_port_; }

 private:
  std::vector<std::string> flags_;
  int health_port_;
  int metrics_port_;
};

// --- Reading the cluster -----------------------------------------------------------------------

inline std::vector<kube::Object> ListByJob(kube::Client& client, const kube::ResourceRef& ref,
                                           const std::string& ns, const std::string& job) {
  kube::ListOptions options;
  options.label_selector = "training.kubeflow.org/job-name=" + job;
  absl::StatusOr<kube::ObjectList> list = client.List(ref, ns, options);
  std::vector<kube::Object> out;
  if (!list.ok()) return out;
  for (const kube::Object& o : list->items) out.push_back(o);
  return out;
}

// The job's condition of `type` (any status), or null.
inline kube::Object Condition(const kube::Object& job, const std::string& type) {
  for (const kube::Object& c :
       job.value("status", kube::Object::object()).value("conditions", kube::Object::array())) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

inline bool ConditionIs(const kube::Object& job, const std::string& type,
                        const std::string& status = "True") {
  kube::Object c = Condition(job, type);
  return !c.is_null() && c.value("status", "") == status;
}

inline std::vector<std::string> EventReasons(kube::Client& client, const std::string& ns,
                                             const std::string& involved) {
  kube::ListOptions options;
  options.field_selector = "involvedObject.name=" + involved;
  absl::StatusOr<kube::ObjectList> events = client.List(kube::resources::Events(), ns, options);
  std::vector<std::string> reasons;
  if (events.ok()) {
    for (const kube::Object& e : events->items) reasons.push_back(e.value("reason", ""));
  }
  return reasons;
}

// A pod template for KWOK nodes: the `tensorflow` container with the named port, and, when
// exit_code ≥ 0, the annotations that make the pod finish with that code after `run_for`.
inline kube::Object TfTemplate(int exit_code = -1, const std::string& run_for = "1s") {
  kube::Object metadata = kube::Object::object();
  if (exit_code >= 0) {
    metadata["annotations"] = {{"kwok.kubedl.io/exit-code", std::to_string(exit_code)},
                               {"kwok.kubedl.io/run-for", run_for}};
  }
  return {{"metadata", metadata},
          {"spec",
           {{"containers",
             kube::Object::array({{{"name", "tensorflow"},
                                   {"image", "busybox"},
                                   {"ports", kube::Object::array({{{"name", "tfjob-port"},
                                                                  {"containerPort", 2222}}})}}})}}}};
}

inline kube::Object Replica(int replicas, const std::string& restart_policy,
                            kube::Object tmpl = TfTemplate()) {
  return {{"replicas", replicas}, {"restartPolicy", restart_policy}, {"template", std::move(tmpl)}};
}

inline kube::Object TfJob(const std::string& name, kube::Object replica_specs,
                          kube::Object run_policy = kube::Object::object()) {
  kube::Object spec = {{"tfReplicaSpecs", std::move(replica_specs)}};
  if (!run_policy.empty()) spec["runPolicy"] = std::move(run_policy);
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "TFJob"},
          {"metadata", {{"name", name}}},
          {"spec", std::move(spec)}};
}

}  // namespace kubedl::reconciler::testing
