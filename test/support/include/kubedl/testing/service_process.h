#pragma once

// A service binary (kubedl-gang-scheduler, kubedl-metrics, kubedl-reconciler, an example
// backend) run by a test as a child process, and the loopback HTTP GET that probes it:
//
//   ServiceProcess process(log_path);    // "": stdout and stderr stay the test's
//   ASSERT_TRUE(process.Spawn({binary, "--health-port=" + std::to_string(port)}));
//   ASSERT_TRUE(process.WaitUntilReady(port, absl::Seconds(20)));   // GET /readyz answers 200
//   process.Kill();                      // SIGKILL: no goodbye, like a node dying
//
// The harness of each service (test/integration/<service>/) derives from it and adds the
// service's flags and ports. Needs no gtest, so benchmark drivers use it too.

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace kubedl::testing {

// A loopback port free at the time of asking (the kernel's choice for port 0).
int FreeLoopbackPort();

// What a GET answered; status 0 when nothing did.
struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET http://127.0.0.1:<port><target>, giving up after `timeout`.
HttpAnswer HttpGet(int port, const std::string& target,
                   absl::Duration timeout = absl::Seconds(2));

class ServiceProcess {
 public:
  // With a `log_path`, the process's stdout and stderr are appended to that file, so one file
  // tells the story of every start; without, they go where the test's go.
  explicit ServiceProcess(std::string log_path = "");
  ~ServiceProcess() { Kill(); }
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Starts args[0] with `args` and the test's environment; false when it cannot be started.
  bool Spawn(std::vector<std::string> args);

  // Polls GET /readyz on `health_port` every `poll_every`: true once it answers 200, false when
  // the process exits first or `timeout` passes.
  bool WaitUntilReady(int health_port, absl::Duration timeout,
                      absl::Duration poll_every = absl::Milliseconds(20));

  // SIGKILL and reap: no lease release, no flushing, no goodbye to the clients.
  void Kill();

  // False once the process has exited; its wait status is kept for WaitExit.
  bool Alive();

  // Sends `signal`; false when the process is gone.
  bool Signal(int signal);

  // The wait status (see WIFEXITED) once the process has exited, or nullopt when it is still
  // running after `timeout`.
  std::optional<int> WaitExit(absl::Duration timeout);

  // True once the process blocks `signal` (/proc/<pid>/status SigBlk): from then on a signal is
  // its own to handle, not the default action.
  bool Blocks(int signal) const;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // The last characters of the log, for failure messages.
  std::string LogTail(size_t max_chars = 4000) const;

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace kubedl::testing
