#include "core/code_sync_injector.h"

#include <string>

#include "kubedl/common/string_view.h"
#include "absl/strings/str_cat.h"
#include "core/pod_template.h"
#include "kubedl/api/code_sync.h"

namespace kubedl::reconciler {
namespace {

// Retries the fetch up to CODE_SYNC_MAX_FAILURES times. Values arrive as env vars, never
// spliced into the script, so a URL cannot inject shell.
constexpr char kRetryPrelude[] =
    "set -u; mkdir -p \"$CODE_ROOT/$CODE_DEST\"; n=0; "
    "until fetch; do n=$((n+1)); "
    "if [ \"$n\" -ge \"$CODE_SYNC_MAX_FAILURES\" ]; then echo \"code sync failed $n times\" >&2; "
    "exit 1; fi; sleep 2; done";

// With a secretRef, CODE_CREDENTIALS is the folder the Secret is mounted at; the scripts read
// its keys from files there, so no credential is ever in the pod's spec.
// The scripts spell the Secret's keys out; these keep them the keys code_sync.h documents.
static_assert(api::kCodeSyncTokenKey == "token" && api::kCodeSyncUsernameKey == "username" &&
              api::kCodeSyncPasswordKey == "password");
static_assert(api::kCodeSyncAccessKeyIdKey == "accessKeyId" &&
              api::kCodeSyncSecretAccessKeyKey == "secretAccessKey" &&
              api::kCodeSyncSessionTokenKey == "sessionToken");
std::string Script(api::CodeSourceType type) {
  std::string fetch;
  switch (type) {
    case api::CodeSourceType::kHttp:
      // Downloads the archive and unpacks it by its extension (.tar.gz/.tgz, .tar, .zip).
      // TMPDIR is honoured so that scripts sharing a filesystem never share the archive.
      // Credentials: a bearer `token`, else basic auth from `username` and `password`.
      fetch =
          "fetch() { a=\"${TMPDIR:-/tmp}/code.archive\"; set --; "
          "c=\"${CODE_CREDENTIALS:-}\"; "
          "if [ -n \"$c\" ] && [ -f \"$c/token\" ]; then "
          "set -- --header \"Authorization: Bearer $(cat \"$c/token\")\"; "
          "elif [ -n \"$c\" ] && [ -f \"$c/password\" ]; then "
          "set -- --header \"Authorization: Basic $(printf '%s:%s' \"$(cat \"$c/username\" "
          "2>/dev/null)\" \"$(cat \"$c/password\")\" | base64 | tr -d '\\n')\"; "
          "elif [ -n \"$c\" ]; then echo \"code sync: the Secret has neither token nor "
          "password\" >&2; return 1; fi; "
          "wget -q -O \"$a\" \"$@\" \"$CODE_SOURCE\" || return 1; "
          "case \"$CODE_SOURCE\" in "
          "*.zip) unzip -o -q \"$a\" -d \"$CODE_ROOT/$CODE_DEST\" ;; "
          "*.tar) tar -xf \"$a\" -C \"$CODE_ROOT/$CODE_DEST\" ;; "
          "*) tar -xzf \"$a\" -C \"$CODE_ROOT/$CODE_DEST\" ;; esac; }; ";
      break;
    case api::CodeSourceType::kHdfs:
      fetch =
          "fetch() { hdfs dfs -copyToLocal -f \"$CODE_SOURCE/.\" \"$CODE_ROOT/$CODE_DEST\"; }; ";
      break;
    case api::CodeSourceType::kS3:
      // Credentials: the Secret's accessKeyId and secretAccessKey (sessionToken optional),
      // exported to the aws process only.
      fetch =
          "if [ -n \"${CODE_CREDENTIALS:-}\" ]; then "
          "for k in accessKeyId secretAccessKey; do [ -f \"$CODE_CREDENTIALS/$k\" ] || "
          "{ echo \"code sync: the Secret has no key $k\" >&2; exit 1; }; done; "
          "AWS_ACCESS_KEY_ID=$(cat \"$CODE_CREDENTIALS/accessKeyId\"); "
          "AWS_SECRET_ACCESS_KEY=$(cat \"$CODE_CREDENTIALS/secretAccessKey\"); "
          "export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; "
          "if [ -f \"$CODE_CREDENTIALS/sessionToken\" ]; then "
          "AWS_SESSION_TOKEN=$(cat \"$CODE_CREDENTIALS/sessionToken\"); "
          "export AWS_SESSION_TOKEN; fi; fi; "
          "fetch() { aws s3 cp --recursive ${CODE_S3_ENDPOINT:+--endpoint-url "
          "\"$CODE_S3_ENDPOINT\"} \"$CODE_SOURCE\" \"$CODE_ROOT/$CODE_DEST\"; }; ";
      break;
    case api::CodeSourceType::kGit:
      break;
  }
  return fetch + kRetryPrelude;
}

void Env(api::Json& env, std::string_view name, std::string_view value) {
  env.push_back({{"name", name}, {"value", value}});
}

// A file of the mounted credentials Secret.
std::string CredentialFile(std::string_view key) {
  return absl::StrCat(A(api::kCodeSyncCredentialsPath), "/", A(key));
}

api::Json InitContainer(const api::CodeSyncConfig& config) {
  api::Json env = api::Json::array();
  api::Json container = api::Json::object();
  if (config.source_type == api::CodeSourceType::kGit) {
    container["name"] = "git-sync-code";
    Env(env, "GIT_SYNC_REPO", config.source);
    Env(env, "GIT_SYNC_ONE_TIME", "true");
    Env(env, "GIT_SYNC_MAX_SYNC_FAILURES", absl::StrCat(config.max_failures));
    if (config.branch) Env(env, "GIT_SYNC_BRANCH", *config.branch);
    if (config.revision) Env(env, "GIT_SYNC_REV", *config.revision);
    if (config.depth) Env(env, "GIT_SYNC_DEPTH", absl::StrCat(*config.depth));
    Env(env, "GIT_SYNC_ROOT", config.root_path);
    Env(env, "GIT_SYNC_DEST", config.dest_path);
    if (config.ssh) Env(env, "GIT_SYNC_SSH", *config.ssh ? "true" : "false");
    const bool ssh = config.ssh.value_or(false);
    if (config.ssh_file) {
      Env(env, "GIT_SSH_KEY_FILE", *config.ssh_file);
    } else if (ssh && config.secret_name) {
      Env(env, "GIT_SSH_KEY_FILE", CredentialFile(api::kCodeSyncSshKeyKey));
    }
    if (ssh && config.secret_name) {
      Env(env, "GIT_SSH_KNOWN_HOSTS_FILE", CredentialFile(api::kCodeSyncKnownHostsKey));
    }
    if (config.user) Env(env, "GIT_SYNC_USERNAME", *config.user);
    // git-sync reads the password from the file (GIT_SYNC_PASSWORD_FILE), never from the spec.
    if (!ssh && config.secret_name) {
      Env(env, "GIT_SYNC_PASSWORD_FILE", CredentialFile(api::kCodeSyncPasswordKey));
    }
  } else {
    container["name"] = absl::StrCat("code-sync-", A(api::SourceTypeName(config.source_type)));
    container["command"] = {"sh", "-c", Script(config.source_type)};
    Env(env, "CODE_SOURCE", config.source);
    Env(env, "CODE_ROOT", config.root_path);
    Env(env, "CODE_DEST", config.dest_path);
    Env(env, "CODE_SYNC_MAX_FAILURES", absl::StrCat(config.max_failures));
    if (config.user) Env(env, "HADOOP_USER_NAME", *config.user);
    if (config.endpoint) Env(env, "CODE_S3_ENDPOINT", *config.endpoint);
    if (config.secret_name) Env(env, "CODE_CREDENTIALS", api::kCodeSyncCredentialsPath);
  }
  for (const auto& e : config.envs) env.push_back(e);
  container["image"] = config.image;
  container["env"] = std::move(env);
  container["volumeMounts"] = {{{"name", kCodeSyncVolume}, {"mountPath", config.root_path}}};
  if (config.secret_name) {
    container["volumeMounts"].push_back({{"name", kCodeSyncCredentialsVolume},
                                         {"mountPath", api::kCodeSyncCredentialsPath},
                                         {"readOnly", true}});
  }
  return container;
}

}  // namespace

absl::Status InjectCodeSync(const api::Job& job, api::Json& pod) {
  absl::StatusOr<std::optional<api::CodeSyncConfig>> parsed = api::CodeSyncOf(job.annotations);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->has_value()) return absl::OkStatus();
  const api::CodeSyncConfig& config = **parsed;

  api::Json& spec = pod["spec"];
  api::Json& volumes = spec["volumes"];
  if (!volumes.is_array()) volumes = api::Json::array();
  volumes.push_back({{"name", kCodeSyncVolume}, {"emptyDir", api::Json::object()}});
  if (config.secret_name) {
    // 0400: an ssh client refuses a key others can read. An init image that runs as non-root
    // needs the pod's securityContext.fsGroup (the kubelet then makes the files 0440).
    volumes.push_back({{"name", kCodeSyncCredentialsVolume},
                       {"secret", {{"secretName", *config.secret_name},
                                   {"defaultMode", kCodeSyncCredentialsMode}}}});
  }
  api::Json& init = spec["initContainers"];
  if (!init.is_array()) init = api::Json::array();
  init.push_back(InitContainer(config));
  for (auto& container : Containers(pod)) {
    if (!container.is_object()) continue;
    // Without a workingDir the code sits where the init container put it.
    std::string base = container.contains("workingDir") && container["workingDir"].is_string()
                           ? container["workingDir"].get<std::string>()
                           : config.root_path;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    api::Json& mounts = container["volumeMounts"];
    if (!mounts.is_array()) mounts = api::Json::array();
    mounts.push_back({{"name", kCodeSyncVolume},
                      {"mountPath", absl::StrCat(base == "/" ? "" : base, "/", config.dest_path)},
                      {"subPath", config.dest_path}});
  }
  return absl::OkStatus();
}

}  // namespace kubedl::reconciler
