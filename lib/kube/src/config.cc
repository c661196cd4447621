#include "kubedl/kube/config.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kubedl/common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace kubedl::kube {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return absl::StrCat(dir, "/", path);
}

// A named entry (cluster, user, context) with the folder of the file that declared it.
struct Entry {
  YAML::Node node;
  std::string dir;
};

struct Merged {
  std::optional<std::string> current_context;
  std::map<std::string, Entry> clusters, users, contexts;
};

void MergeNamed(const YAML::Node& list, const char* field, const std::string& dir,
                std::map<std::string, Entry>& into) {
  if (!list || !list.IsSequence()) return;
  for (const auto& item : list) {
    if (!item.IsMap() || !item["name"]) continue;
    std::string name = item["name"].as<std::string>();
    if (into.count(name)) continue;  // first file wins
    into[name] = Entry{item[field], dir};
  }
}

std::string Str(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return {};
  YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

// `*-data` (base64 PEM) wins over the file path, like kubectl.
absl::StatusOr<std::string> DataOrFile(const Entry& e, const char* data_key,
                                       const char* file_key) {
  std::string data = Str(e.node, data_key);
  if (!data.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(data, &decoded))
      return absl::InvalidArgumentError(absl::StrCat(data_key, " is not valid base64"));
    return decoded;
  }
  std::string file = Str(e.node, file_key);
  if (file.empty()) return std::string();
  return ReadFile(Resolve(e.dir, file));
}

absl::StatusOr<Config> BuildConfig(const Merged& m, const std::string& context_override) {
  std::string context_name =
      !context_override.empty() ? context_override : m.current_context.value_or("");
  if (context_name.empty())
    return absl::FailedPreconditionError("kubeconfig has no current-context");
  auto ctx = m.contexts.find(context_name);
  if (ctx == m.contexts.end())
    return absl::FailedPreconditionError(absl::StrCat("kubeconfig has no context ", context_name));
  Config config;
  std::string ns = Str(ctx->second.node, "namespace");
  if (!ns.empty()) config.namespace_name = ns;

  std::string cluster_name = Str(ctx->second.node, "cluster");
  auto cluster = m.clusters.find(cluster_name);
  if (cluster == m.clusters.end())
    return absl::FailedPreconditionError(absl::StrCat("kubeconfig has no cluster ", cluster_name));
  config.server = Str(cluster->second.node, "server");
  if (config.server.empty())
    return absl::FailedPreconditionError(absl::StrCat("cluster ", cluster_name, " has no server"));
  ASSIGN_OR_RETURN(config.ca_pem, DataOrFile(cluster->second, "certificate-authority-data",
                                             "certificate-authority"));
  config.insecure_skip_tls_verify = Str(cluster->second.node, "insecure-skip-tls-verify") == "true";
  config.tls_server_name = Str(cluster->second.node, "tls-server-name");

  std::string user_name = Str(ctx->second.node, "user");
  auto user = m.users.find(user_name);
  if (user != m.users.end()) {
    ASSIGN_OR_RETURN(config.client_cert_pem,
                     DataOrFile(user->second, "client-certificate-data", "client-certificate"));
    ASSIGN_OR_RETURN(config.client_key_pem,
                     DataOrFile(user->second, "client-key-data", "client-key"));
    config.token = Str(user->second.node, "token");
    std::string token_file = Str(user->second.node, "tokenFile");
    if (!token_file.empty()) config.token_file = Resolve(user->second.dir, token_file);
  } else if (!user_name.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("kubeconfig has no user ", user_name));
  }
  return config;
}

}  // namespace

absl::StatusOr<Config> LoadKubeconfig(const std::vector<std::string>& paths,
                                      const std::string& context) {
  Merged merged;
  int loaded = 0;
  for (const auto& path : paths) {
    if (path.empty()) continue;
    auto text = ReadFile(path);
    if (!text.ok()) continue;  // kubectl skips missing files in KUBECONFIG
    YAML::Node root;
    try {
      root = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
    }
    ++loaded;
    if (!root.IsMap()) continue;
    std::string dir = DirOf(path);
    try {
      std::string current = Str(root, "current-context");
      if (!merged.current_context && !current.empty()) merged.current_context = current;
      MergeNamed(root["clusters"], "cluster", dir, merged.clusters);
      MergeNamed(root["users"], "user", dir, merged.users);
      MergeNamed(root["contexts"], "context", dir, merged.contexts);
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
    }
  }
  if (loaded == 0) return absl::NotFoundError("no readable kubeconfig file");
  return BuildConfig(merged, context);
}

absl::StatusOr<Config> LoadKubeconfigFromEnv(const std::string& context) {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    paths = absl::StrSplit(env, ':', absl::SkipEmpty());
  } else if (const char* home = std::getenv("HOME"); home) {
    paths.push_back(absl::StrCat(home, "/.kube/config"));
  }
  return LoadKubeconfig(paths, context);
}

absl::StatusOr<Config> InClusterConfig(const std::string& service_account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return absl::FailedPreconditionError(
        "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  Config config;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = absl::StrCat("[", h, "]");  // IPv6
  config.server = absl::StrCat("https://", h, ":", port);
  config.token_file = absl::StrCat(service_account_dir, "/token");
  ASSIGN_OR_RETURN(config.ca_pem, ReadFile(absl::StrCat(service_account_dir, "/ca.crt")));
  if (auto ns = ReadFile(absl::StrCat(service_account_dir, "/namespace")); ns.ok()) {
    std::string trimmed(absl::StripAsciiWhitespace(*ns));
    if (!trimmed.empty()) config.namespace_name = trimmed;
  }
  // Fail early when the token is not there; the transport re-reads it as it rotates.
  RETURN_IF_ERROR(ReadFile(config.token_file).status());
  return config;
}

absl::StatusOr<Config> DefaultConfig() {
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) return LoadKubeconfigFromEnv();
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host && *host)
    return InClusterConfig();
  return LoadKubeconfigFromEnv();
}

}  // namespace kubedl::kube
