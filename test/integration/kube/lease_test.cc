// Two candidate processes for one Lease: exactly one leads; when it is killed (SIGKILL, no
// release), the other takes over within the lease duration (plus the polling slack).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/testing/cluster.h"

namespace kubedl::kube {
namespace {

using testing::ClusterTest;
using testing::Eventually;

// A child process whose stdout lines are collected with the time they arrived.
class Candidate {
 public:
  Candidate(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      std::string partial;
      char buf[256];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) {
        partial.append(buf, n);
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
          std::lock_guard l(mu_);
          lines_.push_back({partial.substr(0, nl), absl::Now()});
          partial.erase(0, nl + 1);
        }
      }
      close(fd);
    });
  }
  ~Candidate() {
    Kill();
    if (reader_.joinable()) reader_.join();
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // The time of the first line starting with `prefix`, if any.
  std::optional<absl::Time> Saw(const std::string& prefix) {
    std::lock_guard l(mu_);
    for (const auto& [line, at] : lines_) {
      if (absl::StartsWith(line, prefix)) return at;
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::vector<std::pair<std::string, absl::Time>> lines_;
};

class LeaseTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-lease"; }
};

TEST_F(LeaseTest, ExactlyOneOfTwoCandidatesLeadsAndTheOtherTakesOverAfterAKill) {
  constexpr int kLeaseMs = 4000, kRenewMs = 3000, kRetryMs = 500;
  auto args = [&](const std::string& id) {
    return std::vector<std::string>{KUBE_LEASE_CANDIDATE, ns(), "election", id,
                                    std::to_string(kLeaseMs), std::to_string(kRenewMs),
                                    std::to_string(kRetryMs)};
  };
  auto a = std::make_unique<Candidate>(args("candidate-a"));
  auto b = std::make_unique<Candidate>(args("candidate-b"));
  ASSERT_TRUE(Eventually([&] { return a->Saw("LEADING") || b->Saw("LEADING"); },
                         absl::Seconds(20)));
  // Let them compete for a few lease durations: still exactly one leader.
  absl::SleepFor(absl::Milliseconds(3 * kLeaseMs));
  ASSERT_NE(a->Saw("LEADING").has_value(), b->Saw("LEADING").has_value());
  Candidate* leader = a->Saw("LEADING") ? a.get() : b.get();
  Candidate* follower = leader == a.get() ? b.get() : a.get();
  std::string leader_id = leader == a.get() ? "candidate-a" : "candidate-b";
  std::string follower_id = leader == a.get() ? "candidate-b" : "candidate-a";
  EXPECT_TRUE(follower->Saw("FOLLOWING " + leader_id).has_value());

  auto lease = client().Get(resources::Leases(), ns(), "election");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->at("spec").value("holderIdentity", ""), leader_id);
  int transitions = lease->at("spec").value("leaseTransitions", 0);

  absl::Time killed = absl::Now();
  leader->Kill();  // SIGKILL: no release, the follower must wait for expiry
  ASSERT_TRUE(Eventually([&] { return follower->Saw("LEADING").has_value(); },
                         absl::Seconds(20)));
  absl::Duration takeover = *follower->Saw("LEADING") - killed;
  std::printf("takeover after %s (lease duration %d ms)\n",
              absl::FormatDuration(takeover).c_str(), kLeaseMs);
  // Expiry is measured from when the follower last saw the record change (≤ one retry period
  // after the kill), and it notices on its next poll (≤ 2.2 retry periods with jitter): at most lease + ~4.4 retry periods.
  EXPECT_GT(takeover, absl::Milliseconds(kLeaseMs - 3 * kRetryMs));
  EXPECT_LT(takeover, absl::Milliseconds(kLeaseMs + 5 * kRetryMs));
  auto after = client().Get(resources::Leases(), ns(), "election");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->at("spec").value("holderIdentity", ""), follower_id);
  EXPECT_EQ(after->at("spec").value("leaseTransitions", 0), transitions + 1);
}

}  // namespace
}  // namespace kubedl::kube
