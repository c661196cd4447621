#include "kubedl/api/code_sync.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "kubedl/api/json_parse.h"
#include "kubedl/api/kubernetes_names.h"

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

// The userinfo of scheme://userinfo@host/..., empty when there is none (or no scheme).
std::string_view UrlUserinfo(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  auto at = authority.rfind('@');
  return at == std::string_view::npos ? std::string_view() : authority.substr(0, at);
}

// An env var named like a credential (PASSWORD, SECRET, TOKEN, ... as one of its
// '_'-separated words) whose value is not a path to one (a FILE, PATH, DIR or LOCATION word).
bool NamesACredential(std::string_view name) {
  bool credential = false;
  for (absl::string_view word : absl::StrSplit(A(name), '_')) {
    std::string upper = absl::AsciiStrToUpper(word);
    for (std::string_view path_word : {"FILE", "PATH", "DIR", "LOCATION"}) {
      if (upper == path_word) return false;
    }
    for (std::string_view secret_word :
         {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "CREDENTIALS", "APIKEY"}) {
      if (upper == secret_word) credential = true;
    }
  }
  return credential;
}

// Inline credential fields someone may write, each with the Secret key it belongs under.
struct InlineCredentialField {
  const char* field;
  std::string_view secret_key;
};
constexpr InlineCredentialField kInlineCredentialFields[] = {
    {"password", kCodeSyncPasswordKey},
    {"token", kCodeSyncTokenKey},
    {"accessKeyId", kCodeSyncAccessKeyIdKey},
    {"secretAccessKey", kCodeSyncSecretAccessKeyKey},
    {"sessionToken", kCodeSyncSessionTokenKey},
    {"sshKey", kCodeSyncSshKeyKey},
};

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

namespace {

// Reads the annotation's JSON object field by field, collecting every problem with its path.
class CodeSyncReader {
 public:
  CodeSyncReader(const Json& doc, FieldErrors& errors) : doc_(doc), errors_(errors) {}

  CodeSyncConfig Read() {
    ReadSource();
    ReadPaths();
    config_.max_failures = Integer("maxFailures").value_or(3);
    ReadEnvs();
    ReadRecipeFields();
    RefuseOtherRecipesFields();
    return std::move(config_);
  }

 private:
  std::optional<std::string> Str(const char* key) {
    auto it = doc_.find(key);
    if (it == doc_.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      errors_.push_back(Invalid(At(key), *it, "must be of type string"));
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  std::optional<int64_t> Integer(const char* key) {
    auto it = doc_.find(key);
    if (it == doc_.end() || it->is_null()) return std::nullopt;
    int64_t n = 0;
    if (it->is_number_integer()) {
      n = it->get<int64_t>();
    } else if (!it->is_string() || !absl::SimpleAtoi(it->get<std::string>(), &n)) {
      errors_.push_back(Invalid(At(key), *it, "must be an integer"));
      return std::nullopt;
    }
    if (n < 0) {
      errors_.push_back(Invalid(At(key), *it, "must be greater than or equal to 0"));
      return std::nullopt;
    }
    return n;
  }

  // sourceType, source (a URL of that type) and image (git has a default).
  void ReadSource() {
    static const std::vector<std::string> kTypes = {"git", "http", "hdfs", "s3"};
    type_ = Str("sourceType").value_or("git");
    if (type_ == "git") {
      config_.source_type = CodeSourceType::kGit;
    } else if (type_ == "http" || type_ == "https") {
      config_.source_type = CodeSourceType::kHttp;
    } else if (type_ == "hdfs") {
      config_.source_type = CodeSourceType::kHdfs;
    } else if (type_ == "s3") {
      config_.source_type = CodeSourceType::kS3;
    } else {
      errors_.push_back(NotSupported(At("sourceType"), type_, kTypes));
    }
    config_.source = Str("source").value_or("");
    if (config_.source.empty()) {
      errors_.push_back(Required(At("source")));
    } else if (std::string problem = CredentialsInSource(); !problem.empty()) {
      // Forbidden, not Invalid: the value is not echoed into events and conditions.
      errors_.push_back(Forbidden(At("source"), problem));
    } else if (std::string expected = SourceProblem(); !expected.empty()) {
      errors_.push_back(Invalid(At("source"), config_.source, expected));
    }
    config_.image = Str("image").value_or("");
    if (config_.image.empty()) {
      if (config_.source_type == CodeSourceType::kGit) {
        config_.image = std::string(kDefaultGitSyncImage);
      } else {
        errors_.push_back(
            Required(At("image"), absl::StrCat("sourceType ", type_, " has no default image")));
      }
    }
  }

  // What the source should be, when it is not.
  std::string SourceProblem() const {
    const std::string& source = config_.source;
    switch (config_.source_type) {
      case CodeSourceType::kGit:
        if (HasScheme(source, {"https", "http", "ssh", "git", "file"}) || IsScpLike(source)) {
          return "";
        }
        return "must be a git URL (https://, ssh://, git://, file:// or user@host:path)";
      case CodeSourceType::kHttp:
        return HasScheme(source, {"https", "http"}) ? "" : "must be an http:// or https:// URL";
      case CodeSourceType::kHdfs:
        return HasScheme(source, {"hdfs"}) ? "" : "must be an hdfs:// URL";
      case CodeSourceType::kS3:
        return HasScheme(source, {"s3"}) ? "" : "must be an s3://bucket/prefix URL";
    }
    return "";
  }

  // A password (user:password@) in any URL, or any userinfo in an http(s) URL (a bare token
  // there is a credential too); ssh://git@host/... and git@host:path name a user only.
  std::string CredentialsInSource() const {
    std::string_view userinfo = UrlUserinfo(config_.source);
    const bool web = HasScheme(config_.source, {"https", "http"});
    if (userinfo.find(':') == std::string_view::npos && !(web && !userinfo.empty())) return "";
    return absl::StrCat(
        "credentials in the URL are not accepted; put the ",
        web && userinfo.find(':') == std::string_view::npos ? "token" : "password",
        " in a Secret under the key \"", A(kCodeSyncPasswordKey),
        "\", the user name in user, and name the Secret in secretRef");
  }

  void ReadPaths() {
    config_.root_path = Str("rootPath").value_or("/code");
    if (config_.root_path.empty() || config_.root_path[0] != '/') {
      errors_.push_back(Invalid(At("rootPath"), config_.root_path, "must be an absolute path"));
    }
    config_.dest_path = Str("destPath").value_or(DefaultDestPath(config_.source));
    std::vector<std::string> segments = absl::StrSplit(config_.dest_path, '/');
    if (!config_.dest_path.empty() &&
        (config_.dest_path[0] == '/' ||
         std::find(segments.begin(), segments.end(), "..") != segments.end())) {
      errors_.push_back(Invalid(At("destPath"), config_.dest_path,
                                "must be a relative path without '..'"));
    }
  }

  void ReadEnvs() {
    auto envs = doc_.find("envs");
    if (envs == doc_.end() || envs->is_null()) return;
    if (!envs->is_array()) {
      errors_.push_back(Invalid(At("envs"), *envs, "must be of type array"));
      return;
    }
    for (size_t i = 0; i < envs->size(); ++i) {
      const Json& e = (*envs)[i];
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
          e["name"].get<std::string>().empty()) {
        errors_.push_back(Required(absl::StrCat(At("envs"), "[", i, "].name")));
      } else if (e.contains("value") && !e["value"].is_null() &&
                 NamesACredential(e["name"].get<std::string>())) {
        errors_.push_back(Forbidden(
            absl::StrCat(At("envs"), "[", i, "].value"),
            absl::StrCat("inline credentials are not accepted (", e["name"].get<std::string>(),
                         "); put them in a Secret and name it in secretRef, whose keys the "
                         "init container reads from files (docs/code-sync.md)")));
      }
    }
    config_.envs = *envs;
  }

  // Fields of one recipe or another (git's branch and credentials, s3's endpoint).
  void ReadRecipeFields() {
    config_.branch = Str("branch");
    config_.revision = Str("revision");
    config_.depth = Integer("depth");
    if (auto ssh = doc_.find("ssh"); ssh != doc_.end() && !ssh->is_null()) {
      if (ssh->is_boolean()) {
        config_.ssh = ssh->get<bool>();
      } else if (ssh->is_string() && (*ssh == "true" || *ssh == "false")) {
        config_.ssh = *ssh == "true";
      } else {
        errors_.push_back(Invalid(At("ssh"), *ssh, "must be true or false"));
      }
    }
    config_.ssh_file = Str("sshFile");
    config_.user = Str("user");
    RefuseInlineCredentials();
    ReadSecretRef();
    config_.endpoint = Str("endpoint");
    if (config_.endpoint && !HasScheme(*config_.endpoint, {"https", "http"})) {
      errors_.push_back(Invalid(At("endpoint"), *config_.endpoint,
                                "must be an http:// or https:// URL"));
    }
  }

  // Checked whatever their type: a password must never be copied into a pod, and the value is
  // never echoed back.
  void RefuseInlineCredentials() {
    for (const auto& [field, secret_key] : kInlineCredentialFields) {
      if (!doc_.contains(field)) continue;
      errors_.push_back(Forbidden(
          At(field), absl::StrCat(std::string_view(field) == "password" ? "inline passwords"
                                                                        : "inline credentials",
                                  " are not accepted; put it in a Secret under the key \"",
                                  A(secret_key), "\" and name the Secret in secretRef")));
    }
  }

  // secretRef: {"name": <a Secret of the job's namespace>}. The whole Secret is mounted, so it
  // has no other field; the keys each recipe reads are fixed (code_sync.h).
  void ReadSecretRef() {
    auto ref = doc_.find("secretRef");
    if (ref == doc_.end() || ref->is_null()) return;
    if (!ref->is_object()) {
      errors_.push_back(Invalid(At("secretRef"), *ref, "must be of type object"));
      return;
    }
    for (const auto& [key, value] : ref->items()) {
      if (key != "name") {
        errors_.push_back(Forbidden(
            absl::StrCat(At("secretRef"), ".", key),
            "not a field of secretRef: the whole Secret is mounted and each source type reads "
            "fixed keys from it (docs/code-sync.md)"));
      }
    }
    const std::string name_path = absl::StrCat(At("secretRef"), ".name");
    auto name = ref->find("name");
    if (name == ref->end() || name->is_null() ||
        (name->is_string() && name->get<std::string>().empty())) {
      errors_.push_back(Required(name_path, "the name of a Secret in the job's namespace"));
    } else if (!name->is_string()) {
      errors_.push_back(Invalid(name_path, *name, "must be of type string"));
    } else if (!IsDns1123Subdomain(name->get<std::string>())) {
      errors_.push_back(Invalid(
          name_path, *name,
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
          "'-' or '.', and must start and end with an alphanumeric character, at most 253 "
          "characters"));
    } else {
      config_.secret_name = name->get<std::string>();
    }
  }

  // git over http(s) with a Secret: git asks for a user name with the password.
  void RequireUserForGitPassword() {
    if (config_.source_type != CodeSourceType::kGit || !config_.secret_name ||
        config_.ssh.value_or(false) || config_.user) {
      return;
    }
    errors_.push_back(Required(
        At("user"), absl::StrCat("the user name that goes with the Secret's \"",
                                 A(kCodeSyncPasswordKey), "\" (or set ssh)")));
  }

  // Fields of another recipe are refused rather than silently ignored.
  void RefuseOtherRecipesFields() {
    OnlyFor("branch", {CodeSourceType::kGit}, "git");
    OnlyFor("revision", {CodeSourceType::kGit}, "git");
    OnlyFor("depth", {CodeSourceType::kGit}, "git");
    OnlyFor("ssh", {CodeSourceType::kGit}, "git");
    OnlyFor("sshFile", {CodeSourceType::kGit}, "git");
    OnlyFor("user", {CodeSourceType::kGit, CodeSourceType::kHdfs}, "git or hdfs");
    OnlyFor("secretRef", {CodeSourceType::kGit, CodeSourceType::kHttp, CodeSourceType::kS3},
            "git, http or s3");
    OnlyFor("endpoint", {CodeSourceType::kS3}, "s3");
    RequireUserForGitPassword();
  }

  void OnlyFor(const char* key, std::initializer_list<CodeSourceType> types,
               std::string_view types_text) {
    if (!doc_.contains(key) || doc_[key].is_null()) return;
    if (std::find(types.begin(), types.end(), config_.source_type) == types.end()) {
      errors_.push_back(Forbidden(At(key), absl::StrCat("only for sourceType ", A(types_text))));
    }
  }

  const Json& doc_;
  FieldErrors& errors_;
  CodeSyncConfig config_;
  std::string type_;
};

}  // namespace

absl::StatusOr<CodeSyncConfig> ParseCodeSyncConfig(std::string_view value, FieldErrors* out) {
  FieldErrors errors;
  CodeSyncConfig config;
  absl::StatusOr<Json> parsed = ParseJson(value);
  Json doc = parsed.ok() ? *std::move(parsed) : Json(Json::value_t::discarded);
  if (doc.is_discarded() || !doc.is_object()) {
    errors.push_back(Invalid(kBase, std::string(value), "must be a JSON object"));
  } else {
    config = CodeSyncReader(doc, errors).Read();
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
