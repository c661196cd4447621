#pragma once

// The real kubedl-reconciler process for integration tests, plus what the tests read back from
// the API server. The binary comes from $KUBEDL_BUILD_DIR (else the path CMake compiled in);
// output goes to a log file the failure messages name.
//
//   ReconcilerProcess r({"--namespace=" + ns(), "--leader-elect=false"});
//   ASSERT_TRUE(r.Start());          // waits for /readyz
//   r.Kill();                        // SIGKILL, no goodbye
//   r.Signal(SIGTERM); r.WaitExit(absl::Seconds(5));   // a graceful stop and its wait status

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/testing/cluster.h"

extern char** environ;

namespace kubedl::reconciler::testing {

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

inline int FreeLoopbackPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// GET http://127.0.0.1:<port><target>; 0 when nothing answers.
inline int HttpStatus(int port, const std::string& target, std::string* body = nullptr) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(2));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<uint16_t>(port)));
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (body != nullptr) *body = response.body();
    return static_cast<int>(response.result_int());
  } catch (const std::exception&) {
    return 0;
  }
}

class ReconcilerProcess {
 public:
  explicit ReconcilerProcess(std::vector<std::string> flags)
      : flags_(std::move(flags)), health_port_(FreeLoopbackPort()),
        metrics_port_(FreeLoopbackPort()) {}
  ~ReconcilerProcess() { Kill(); }
  ReconcilerProcess(const ReconcilerProcess&) = delete;
  ReconcilerProcess& operator=(const ReconcilerProcess&) = delete;

  // Spawns the process; with `wait_ready`, returns true once /readyz answers 200.
  bool Start(bool wait_ready = true, absl::Duration timeout = absl::Seconds(60)) {
    std::vector<std::string> args = {ReconcilerBinary(),
                                     "--kubeconfig=" + Env("KUBECONFIG"),
                                     "--bind-address=127.0.0.1",
                                     absl::StrCat("--health-port=", health_port_),
                                     absl::StrCat("--metrics-port=", metrics_port_)};
    args.insert(args.end(), flags_.begin(), flags_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (log_.empty()) {
      log_ = ::testing::TempDir() + kubedl::testing::RandomName("kubedl-reconciler") + ".log";
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int spawned =
        posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      pid_ = -1;
      return false;
    }
    if (!wait_ready) return true;
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (HttpStatus(health_port_, "/readyz") == 200) return true;
      if (!Alive()) return false;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // SIGKILL: no lease release, no flushing, like a node dying.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  bool Alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }

  bool Signal(int signal) { return pid_ > 0 && ::kill(pid_, signal) == 0; }

  // The wait status (see WIFEXITED) once the process has exited, or nullopt when it is still
  // running after `timeout`.
  std::optional<int> WaitExit(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (Alive()) {
      if (absl::Now() >= deadline) return std::nullopt;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return exit_status_;
  }

  // True once the process blocks `signal` (/proc/<pid>/status SigBlk): from then on a signal is
  // its own to handle, not the default action.
  bool Blocks(int signal) {
    if (pid_ <= 0) return false;
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigBlk:", 0) != 0) continue;
      const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return (mask >> (signal - 1)) & 1ULL;
    }
    return false;
  }

  pid_t pid() const { return pid_; }
  int health_port() const { return health_port_; }
  int metrics_port() const { return metrics_port_; }
  const std::string& log_path() const { return log_; }
  // The last lines of the log, for failure messages.
  std::string LogTail(size_t max_chars = 4000) const {
    std::ifstream in(log_);
    std::stringstream all;
    all << in.rdbuf();
    std::string text = all.str();
    return text.size() > max_chars ? text.substr(text.size() - max_chars) : text;
  }

 private:
  std::vector<std::string> flags_;
  int health_port_;
  int metrics_port_;
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
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
