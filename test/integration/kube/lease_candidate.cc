// A leader election candidate for lease_test.cc: competes for a Lease and prints
// "LEADING <identity>" when it leads, "FOLLOWING <leader>" when it sees another leader,
// "STOPPED" when it loses the lease. Runs until killed.
//
//   kube_lease_candidate <namespace> <lease> <identity> <lease-ms> <renew-ms> <retry-ms>

#include <cstdio>
#include <cstdlib>

#include "absl/time/clock.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/leader_election.h"
#include "kubedl/kube/rest_client.h"

int main(int argc, char** argv) {
  using namespace kubedl::kube;
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s ns lease identity lease-ms renew-ms retry-ms\n", argv[0]);
    return 2;
  }
  auto config = LoadKubeconfigFromEnv();
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 1;
  }
  auto client = NewClient(*config);
  if (!client.ok()) return 1;
  auto lock = NewLeaseLock(**client, argv[1], argv[2]);
  LeaderElectionConfig election;
  election.identity = argv[3];
  election.lease_duration = absl::Milliseconds(std::atoi(argv[4]));
  election.renew_deadline = absl::Milliseconds(std::atoi(argv[5]));
  election.retry_period = absl::Milliseconds(std::atoi(argv[6]));
  election.on_started_leading = [&] {
    std::printf("LEADING %s\n", argv[3]);
    std::fflush(stdout);
  };
  election.on_stopped_leading = [] {
    std::printf("STOPPED\n");
    std::fflush(stdout);
  };
  election.on_new_leader = [](const std::string& leader) {
    std::printf("FOLLOWING %s\n", leader.c_str());
    std::fflush(stdout);
  };
  if (auto s = ValidateLeaderElectionConfig(election); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  while (true) {  // lost leadership: compete again
    LeaderElector elector(*lock, election);
    elector.Run();
  }
}
