#include "kubedl/api/code_sync.h"

#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kubedl::api {
namespace {

// Debian's abseil has its own string_view type.
inline absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

const std::string kBase = absl::StrCat("metadata.annotations[", A(kCodeSyncAnnotation), "]");

std::string At(std::string_view field) { return absl::StrCat(kBase, ".", A(field)); }

bool HasScheme(std::string_view s, std::initializer_list<std::string_view> schemes) {
  for (std::string_view scheme : schemes) {
    std::string prefix = absl::StrCat(A(scheme), "://");
    if (absl::StartsWithIgnoreCase(A(s), prefix) && s.size() > prefix.size()) return true;
  }
  return false;
}

// user@host:path, as git accepts for SSH.
bool IsScpLike(std::string_view s) {
  auto at = s.find('@');
  auto colon = s.find(':');
  return at != std::string_view::npos && colon != std::string_view::npos && at > 0 &&
         colon > at + 1 && colon + 1 < s.size();
}

std::string DefaultDestPath(std::string_view source) {
  std::string_view s = source;
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  auto cut = s.find_last_of("/:");
  if (cut != std::string_view::npos) s = s.substr(cut + 1);
  for (std::string_view ext : {".git", ".tar.gz", ".tgz", ".tar", ".zip"}) {
    if (absl::EndsWith(A(s), A(ext))) {
      s.remove_suffix(ext.size());
      break;
    }
  }
  return std::string(s);
}

}  // namespace

std::string_view SourceTypeName(CodeSourceType type) {
  switch (type) {
    case CodeSourceType::kGit: return "git";
    case CodeSourceType::kHttp: return "http";
    case CodeSourceType::kHdfs: return "hdfs";
    case CodeSourceType::kS3: return "s3";
  }
  return "git";
}

absl::StatusOr<CodeSyncConfig> ParseCodeSyncConfig(std::string_view value, FieldErrors* out) {
  FieldErrors errors;
  CodeSyncConfig config;
  Json doc = Json::parse(value.begin(), value.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    errors.push_back(Invalid(kBase, std::string(value), "must be a JSON object"));
  } else {
    auto str = [&](const char* key) -> std::optional<std::string> {
      auto it = doc.find(key);
      if (it == doc.end() || it->is_null()) return std::nullopt;
      if (!it->is_string()) {
        errors.push_back(Invalid(At(key), *it, "must be of type string"));
        return std::nullopt;
      }
      return it->get<std::string>();
    };
    auto integer = [&](const char* key) -> std::optional<int64_t> {
      auto it = doc.find(key);
      if (it == doc.end() || it->is_null()) return std::nullopt;
      int64_t n = 0;
      if (it->is_number_integer()) {
        n = it->get<int64_t>();
      } else if (!it->is_string() || !absl::SimpleAtoi(it->get<std::string>(), &n)) {
        errors.push_back(Invalid(At(key), *it, "must be an integer"));
        return std::nullopt;
      }
      if (n < 0) {
        errors.push_back(Invalid(At(key), *it, "must be greater than or equal to 0"));
        return std::nullopt;
      }
      return n;
    };

    static const std::vector<std::string> kTypes = {"git", "http", "hdfs", "s3"};
    std::string type = str("sourceType").value_or("git");
    if (type == "git") {
      config.source_type = CodeSourceType::kGit;
    } else if (type == "http" || type == "https") {
      config.source_type = CodeSourceType::kHttp;
    } else if (type == "hdfs") {
      config.source_type = CodeSourceType::kHdfs;
    } else if (type == "s3") {
      config.source_type = CodeSourceType::kS3;
    } else {
      errors.push_back(NotSupported(At("sourceType"), type, kTypes));
    }

    config.source = str("source").value_or("");
    if (config.source.empty()) {
      errors.push_back(Required(At("source")));
    } else {
      bool ok = true;
      std::string expected;
      switch (config.source_type) {
        case CodeSourceType::kGit:
          ok = HasScheme(config.source, {"https", "http", "ssh", "git", "file"}) ||
               IsScpLike(config.source);
          expected = "must be a git URL (https://, ssh://, git://, file:// or user@host:path)";
          break;
        case CodeSourceType::kHttp:
          ok = HasScheme(config.source, {"https", "http"});
          expected = "must be an http:// or https:// URL";
          break;
        case CodeSourceType::kHdfs:
          ok = HasScheme(config.source, {"hdfs"});
          expected = "must be an hdfs:// URL";
          break;
        case CodeSourceType::kS3:
          ok = HasScheme(config.source, {"s3"});
          expected = "must be an s3://bucket/prefix URL";
          break;
      }
      if (!ok) errors.push_back(Invalid(At("source"), config.source, expected));
    }

    config.image = str("image").value_or("");
    if (config.image.empty()) {
      if (config.source_type == CodeSourceType::kGit) {
        config.image = std::string(kDefaultGitSyncImage);
      } else {
        errors.push_back(Required(At("image"), absl::StrCat("sourceType ", type,
                                                            " has no default image")));
      }
    }
    config.root_path = str("rootPath").value_or("/code");
    if (config.root_path.empty() || config.root_path[0] != '/') {
      errors.push_back(Invalid(At("rootPath"), config.root_path, "must be an absolute path"));
    }
    config.dest_path = str("destPath").value_or(DefaultDestPath(config.source));
    std::vector<std::string> segments = absl::StrSplit(config.dest_path, '/');
    if (!config.dest_path.empty() &&
        (config.dest_path[0] == '/' ||
         std::find(segments.begin(), segments.end(), "..") != segments.end())) {
      errors.push_back(Invalid(At("destPath"), config.dest_path,
                               "must be a relative path without '..'"));
    }
    config.max_failures = integer("maxFailures").value_or(3);

    if (auto envs = doc.find("envs"); envs != doc.end() && !envs->is_null()) {
      if (!envs->is_array()) {
        errors.push_back(Invalid(At("envs"), *envs, "must be of type array"));
      } else {
        for (size_t i = 0; i < envs->size(); ++i) {
          const Json& e = (*envs)[i];
          if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
              e["name"].get<std::string>().empty()) {
            errors.push_back(Required(absl::StrCat(At("envs"), "[", i, "].name")));
          }
        }
        config.envs = *envs;
      }
    }

    config.branch = str("branch");
    config.revision = str("revision");
    config.depth = integer("depth");
    if (auto ssh = doc.find("ssh"); ssh != doc.end() && !ssh->is_null()) {
      if (ssh->is_boolean()) {
        config.ssh = ssh->get<bool>();
      } else if (ssh->is_string() && (*ssh == "true" || *ssh == "false")) {
        config.ssh = *ssh == "true";
      } else {
        errors.push_back(Invalid(At("ssh"), *ssh, "must be true or false"));
      }
    }
    config.ssh_file = str("sshFile");
    config.user = str("user");
    config.password = str("password");
    config.endpoint = str("endpoint");
    if (config.endpoint && !HasScheme(*config.endpoint, {"https", "http"})) {
      errors.push_back(Invalid(At("endpoint"), *config.endpoint,
                               "must be an http:// or https:// URL"));
    }

    // Fields of another recipe are refused rather than silently ignored.
    auto only_for = [&](const char* key, std::initializer_list<CodeSourceType> types,
                        std::string_view types_text) {
      if (!doc.contains(key) || doc[key].is_null()) return;
      if (std::find(types.begin(), types.end(), config.source_type) == types.end()) {
        errors.push_back(Forbidden(At(key), absl::StrCat("only for sourceType ", A(types_text))));
      }
    };
    only_for("branch", {CodeSourceType::kGit}, "git");
    only_for("revision", {CodeSourceType::kGit}, "git");
    only_for("depth", {CodeSourceType::kGit}, "git");
    only_for("ssh", {CodeSourceType::kGit}, "git");
    only_for("sshFile", {CodeSourceType::kGit}, "git");
    only_for("password", {CodeSourceType::kGit}, "git");
    only_for("user", {CodeSourceType::kGit, CodeSourceType::kHdfs}, "git or hdfs");
    only_for("endpoint", {CodeSourceType::kS3}, "s3");
  }
  if (!errors.empty()) {
    std::vector<std::string> parts;
    for (const auto& e : errors) parts.push_back(e.ToString());
    if (out != nullptr) out->insert(out->end(), errors.begin(), errors.end());
    return absl::InvalidArgumentError(absl::StrJoin(parts, ", "));
  }
  return config;
}

absl::StatusOr<std::optional<CodeSyncConfig>> CodeSyncOf(
    const std::map<std::string, std::string>& annotations) {
  auto it = annotations.find(std::string(kCodeSyncAnnotation));
  if (it == annotations.end()) return std::nullopt;
  auto config = ParseCodeSyncConfig(it->second);
  if (!config.ok()) return config.status();
  return std::optional<CodeSyncConfig>(*std::move(config));
}

}  // namespace kubedl::api
