#pragma once
// The code-sync annotation (SPEC §4): run code fetched from a remote store without rebuilding the
// image. Its value is JSON; `sourceType` selects the recipe (the reconciler's init container):
//
//   {"source": "https://github.com/org/repo.git", "branch": "main"}              git (default)
//   {"sourceType": "http", "source": "https://host/code.tar.gz", "image": "..."}  archive
//   {"sourceType": "hdfs", "source": "hdfs://nn:8020/code", "image": "..."}
//   {"sourceType": "s3", "source": "s3://bucket/prefix", "endpoint": "https://minio:9000",
//    "image": "..."}
//
// Credentials never travel in the annotation: `secretRef` names a Secret of the job's namespace
// that the reconciler mounts read-only into the init container only, at
// kCodeSyncCredentialsPath, and the recipe reads its keys from files there (the key names
// below). An inline `password` (or token, access key, credentials in the source URL, a
// credential-named `envs` entry with a value) is refused with the field path and what to use.
//
// Parsing and validation live here so the webhook refuses a malformed annotation with the field
// named; injecting the init container is the reconciler's.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kubedl/api/field_error.h"
#include "kubedl/api/json.h"

namespace kubedl::api {

inline constexpr std::string_view kCodeSyncAnnotation = "kubedl.io/git-sync-config";
inline constexpr std::string_view kDefaultGitSyncImage = "kubedl/git-sync:v1";

// Where the Secret named in secretRef is mounted (read-only, init container only).
inline constexpr std::string_view kCodeSyncCredentialsPath = "/etc/kubedl/code-sync-credentials";
// The keys each recipe reads from that Secret. username/password and ssh-privatekey are the keys
// of Kubernetes' own kubernetes.io/basic-auth and kubernetes.io/ssh-auth Secret types.
inline constexpr std::string_view kCodeSyncPasswordKey = "password";             // git, http
inline constexpr std::string_view kCodeSyncUsernameKey = "username";             // http
inline constexpr std::string_view kCodeSyncTokenKey = "token";                   // http (bearer)
inline constexpr std::string_view kCodeSyncSshKeyKey = "ssh-privatekey";         // git over ssh
inline constexpr std::string_view kCodeSyncKnownHostsKey = "known_hosts";        // git over ssh
inline constexpr std::string_view kCodeSyncAccessKeyIdKey = "accessKeyId";       // s3
inline constexpr std::string_view kCodeSyncSecretAccessKeyKey = "secretAccessKey";  // s3
inline constexpr std::string_view kCodeSyncSessionTokenKey = "sessionToken";     // s3, optional

enum class CodeSourceType { kGit, kHttp, kHdfs, kS3 };

struct CodeSyncConfig {
  CodeSourceType source_type = CodeSourceType::kGit;
  std::string source;     // clone URL, archive URL, hdfs:// or s3:// location
  std::string image;      // default kDefaultGitSyncImage for git; required for the others
  std::string root_path;  // default "/code"
  std::string dest_path;  // default: the last path segment of source without .git / archive ext
  int64_t max_failures = 3;
  Json envs = Json::array();  // extra env vars ([{name, value}]) for the init container
  // git only
  std::optional<std::string> branch;
  std::optional<std::string> revision;
  std::optional<int64_t> depth;  // a number or a numeric string
  std::optional<bool> ssh;
  std::optional<std::string> ssh_file;
  std::optional<std::string> user;      // also HDFS; a name, not a credential
  // git, http and s3: the Secret (same namespace as the job) holding the credentials.
  std::optional<std::string> secret_name;
  // s3 only
  std::optional<std::string> endpoint;  // S3-compatible endpoint URL
};

// Parses and validates one annotation value, with defaults filled in. On failure every problem
// is appended to `errors` (paths start with metadata.annotations[kubedl.io/git-sync-config]) and
// InvalidArgument is returned.
absl::StatusOr<CodeSyncConfig> ParseCodeSyncConfig(std::string_view value,
                                                   FieldErrors* errors = nullptr);

// The job's code-sync configuration, nullopt when the annotation is absent.
absl::StatusOr<std::optional<CodeSyncConfig>> CodeSyncOf(
    const std::map<std::string, std::string>& annotations);

std::string_view SourceTypeName(CodeSourceType type);

}  // namespace kubedl::api
