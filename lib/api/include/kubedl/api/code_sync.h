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
  std::optional<std::string> user;      // also HDFS
  std::optional<std::string> password;
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
