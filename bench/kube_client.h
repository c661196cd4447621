#pragma once
// The API client of the benchmark drivers that run against the local control plane: from
// $KUBECONFIG, with up to `connections` connections at once. A driver without one cannot
// measure anything, so the process ends (exit code 1) when there is none.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "kubedl/kube/config.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::bench {

inline std::unique_ptr<kube::Client> MakeClient(int connections) {
  auto config = kube::LoadKubeconfigFromEnv();
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    std::exit(1);
  }
  config->max_connections = connections;
  auto client = kube::NewClient(*config);
  if (!client.ok()) std::exit(1);
  return std::move(*client);
}

}  // namespace kubedl::bench
