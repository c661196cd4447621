#pragma once

// Where the API server is and how to authenticate: from kubeconfig files or from inside a pod.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kubedl::kube {

struct Config {
  std::string server;               // https://host:port
  std::string ca_pem;               // empty: the system trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;      // name to verify instead of the server's host
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;                // static bearer token
  std::string token_file;           // re-read every token_reload_period (bound tokens rotate)
  absl::Duration token_reload_period = absl::Minutes(1);
  std::string namespace_name = "default";  // the context's (or the pod's) namespace

  // Transport tuning.
  int max_connections = 64;         // keep-alive pool size for ordinary requests
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(60);
  double qps = 0;                   // client-side rate limit; 0 = off (the server has APF)
  int burst = 0;
  int max_retries_on_429 = 10;      // honouring Retry-After
  // Creates of core/v1 objects whose answer is not read (CreateStatusOnly: pods, services,
  // events) go in Kubernetes' protobuf encoding, as client-go's do; false: JSON.
  bool protobuf = true;
  std::string user_agent = "kubedl";
};

// Loads and merges kubeconfig files like kubectl: for every key (current-context, a named
// cluster, user or context) the first file that sets it wins. File paths inside a file are
// relative to that file's folder. `context` overrides current-context when not empty.
absl::StatusOr<Config> LoadKubeconfig(const std::vector<std::string>& paths,
                                      const std::string& context = "");

// The files named by $KUBECONFIG (colon-separated), else ~/.kube/config.
absl::StatusOr<Config> LoadKubeconfigFromEnv(const std::string& context = "");

// In-cluster config: $KUBERNETES_SERVICE_HOST/_PORT, and the service account's token, ca.crt
// and namespace under `service_account_dir`.
absl::StatusOr<Config> InClusterConfig(
    const std::string& service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// $KUBECONFIG if set; else in-cluster when $KUBERNETES_SERVICE_HOST is set; else ~/.kube/config.
absl::StatusOr<Config> DefaultConfig();

}  // namespace kubedl::kube
