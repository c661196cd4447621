#include "kubedl/api/code_sync.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kubedl::api {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Errors(const std::string& value) {
  FieldErrors errors;
  (void)ParseCodeSyncConfig(value, &errors);
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.ToString());
  return out;
}

TEST(CodeSyncTest, GitIsTheDefaultSourceTypeWithSpecDefaults) {
  auto config = ParseCodeSyncConfig(R"({"source":"https://github.com/org/models.git"})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source_type, CodeSourceType::kGit);
  EXPECT_EQ(config->image, kDefaultGitSyncImage);
  EXPECT_EQ(config->root_path, "/code");
  EXPECT_EQ(config->dest_path, "models");
  EXPECT_EQ(config->max_failures, 3);
}

TEST(CodeSyncTest, GitFieldsAreRead) {
  auto config = ParseCodeSyncConfig(
      R"({"source":"git@github.com:org/repo.git","branch":"dev","revision":"abc","depth":"1",
          "ssh":true,"sshFile":"/etc/key","rootPath":"/src","destPath":"work","maxFailures":5,
          "envs":[{"name":"A","value":"b"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->branch, "dev");
  EXPECT_EQ(config->revision, "abc");
  EXPECT_EQ(config->depth, 1);
  EXPECT_EQ(config->ssh, true);
  EXPECT_EQ(config->dest_path, "work");
  EXPECT_EQ(config->max_failures, 5);
  EXPECT_EQ(config->envs.size(), 1u);
}

TEST(CodeSyncTest, OtherSourceTypesNeedTheirUrlSchemeAndAnImage) {
  auto http = ParseCodeSyncConfig(
      R"({"sourceType":"http","source":"https://host/a/code.tar.gz","image":"fetch:1"})");
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->dest_path, "code");
  auto s3 = ParseCodeSyncConfig(
      R"({"sourceType":"s3","source":"s3://bucket/job","endpoint":"https://minio:9000","image":"s3:1"})");
  ASSERT_TRUE(s3.ok()) << s3.status();
  EXPECT_EQ(s3->source_type, CodeSourceType::kS3);
  auto hdfs = ParseCodeSyncConfig(
      R"({"sourceType":"hdfs","source":"hdfs://nn:8020/code","user":"ml","image":"hdfs:1"})");
  ASSERT_TRUE(hdfs.ok()) << hdfs.status();
}

const std::string kBase = "metadata.annotations[kubedl.io/git-sync-config]";

TEST(CodeSyncTest, MalformedAnnotationsNameTheField) {
  EXPECT_THAT(Errors("[1]"), Contains(kBase + ": Invalid value: \"[1]\": must be a JSON object"));
  EXPECT_THAT(Errors(R"({"sourceType":"ftp","source":"ftp://x"})"),
              Contains(kBase + ".sourceType: Unsupported value: \"ftp\": supported values: "
                               "\"git\", \"http\", \"hdfs\", \"s3\""));
  EXPECT_THAT(Errors(R"({"source":"not a url"})"),
              Contains(kBase + ".source: Invalid value: \"not a url\": must be a git URL "
                               "(https://, ssh://, git://, file:// or user@host:path)"));
  EXPECT_THAT(Errors(R"({"sourceType":"s3","source":"https://x/y","image":"i"})"),
              Contains(kBase + ".source: Invalid value: \"https://x/y\": must be an "
                               "s3://bucket/prefix URL"));
  EXPECT_THAT(Errors(R"({"sourceType":"http","source":"https://x/y.zip"})"),
              Contains(kBase + ".image: Required value: sourceType http has no default image"));
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","depth":"deep"})"),
              Contains(kBase + ".depth: Invalid value: \"deep\": must be an integer"));
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","maxFailures":-1})"),
              Contains(kBase + ".maxFailures: Invalid value: -1: must be greater than or equal "
                               "to 0"));
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","rootPath":"code"})"),
              Contains(kBase + ".rootPath: Invalid value: \"code\": must be an absolute path"));
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","destPath":"../etc"})"),
              Contains(kBase + ".destPath: Invalid value: \"../etc\": must be a relative path "
                               "without '..'"));
  EXPECT_THAT(Errors(R"({"sourceType":"s3","source":"s3://b/k","image":"i","branch":"x"})"),
              Contains(kBase + ".branch: Forbidden: only for sourceType git"));
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","envs":[{"value":"v"}]})"),
              Contains(kBase + ".envs[0].name: Required value"));
}

TEST(CodeSyncTest, InlinePasswordIsRefusedNamingTheSecretToUseInstead) {
  auto config = ParseCodeSyncConfig(
      R"({"source":"https://x/y.git","user":"bot","password":"hunter2-secret"})");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","user":"bot","password":"hunter2-secret"})"),
              Contains(kBase + ".password: Forbidden: inline passwords are not accepted; put it "
                               "in a Secret under the key \"password\" and name the Secret in "
                               "secretRef"));
  // The refusal never echoes the password (it ends up in events and conditions).
  EXPECT_THAT(std::string(config.status().message()), Not(HasSubstr("hunter2-secret")));
  // Whatever its type, and even beside a valid secretRef.
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","user":"u","secretRef":{"name":"c"},
                        "password":{"a":1}})"),
              Contains(HasSubstr(kBase + ".password: Forbidden: inline passwords")));
}

TEST(CodeSyncTest, OtherInlineCredentialFieldsAreRefusedWithTheirSecretKey) {
  EXPECT_THAT(Errors(R"({"sourceType":"http","source":"https://h/c.tgz","image":"i",
                        "token":"t"})"),
              Contains(kBase + ".token: Forbidden: inline credentials are not accepted; put it "
                               "in a Secret under the key \"token\" and name the Secret in "
                               "secretRef"));
  EXPECT_THAT(Errors(R"({"sourceType":"s3","source":"s3://b/p","image":"i",
                        "accessKeyId":"AKIA","secretAccessKey":"s"})"),
              Contains(HasSubstr(kBase + ".secretAccessKey: Forbidden: inline credentials are "
                                         "not accepted; put it in a Secret under the key "
                                         "\"secretAccessKey\"")));
}

TEST(CodeSyncTest, CredentialsInTheSourceUrlAreRefusedWithoutEchoingThem) {
  const std::string refused = kBase + ".source: Forbidden: credentials in the URL are not "
                                      "accepted; put the password in a Secret under the key "
                                      "\"password\", the user name in user, and name the "
                                      "Secret in secretRef";
  EXPECT_THAT(Errors(R"({"source":"https://bot:s3cret@git.example.com/org/repo.git"})"),
              Contains(refused));
  EXPECT_THAT(Errors(R"({"sourceType":"s3","source":"s3://AKIA:s3cret@bucket/p","image":"i"})"),
              Contains(refused));
  // A bare token as the userinfo of an http(s) URL is a credential too.
  EXPECT_THAT(Errors(R"({"source":"https://ghp_tok3n@github.com/org/repo.git"})"),
              Contains(HasSubstr(".source: Forbidden: credentials in the URL are not accepted; "
                                 "put the token in a Secret")));
  for (const auto& e : Errors(R"({"source":"https://bot:s3cret@git.example.com/r.git"})")) {
    EXPECT_THAT(e, Not(HasSubstr("s3cret")));
  }
  // An ssh user name is not a credential.
  EXPECT_TRUE(ParseCodeSyncConfig(R"({"source":"ssh://git@github.com/org/repo.git"})").ok());
  EXPECT_TRUE(ParseCodeSyncConfig(R"({"source":"git@github.com:org/repo.git"})").ok());
  // '@' after the host is part of the path, not a userinfo.
  EXPECT_TRUE(ParseCodeSyncConfig(R"({"source":"https://h/org/a@b:c.git"})").ok());
}

TEST(CodeSyncTest, CredentialNamedEnvsWithAValueAreRefused) {
  EXPECT_THAT(Errors(R"({"sourceType":"s3","source":"s3://b/p","image":"i",
                        "envs":[{"name":"HTTPS_PROXY","value":"http://p:3128"},
                                {"name":"AWS_SECRET_ACCESS_KEY","value":"s3cret"}]})"),
              Contains(kBase + ".envs[1].value: Forbidden: inline credentials are not accepted "
                               "(AWS_SECRET_ACCESS_KEY); put them in a Secret and name it in "
                               "secretRef, whose keys the init container reads from files "
                               "(docs/code-sync.md)"));
  for (const char* name : {"GIT_SYNC_PASSWORD", "AWS_SESSION_TOKEN", "api_token", "DB_PASSWD"}) {
    EXPECT_THAT(Errors(absl::StrCat(R"({"source":"https://x/y.git","envs":[{"name":")", name,
                                    R"(","value":"v"}]})")),
                Contains(HasSubstr(".envs[0].value: Forbidden"))) << name;
  }
  // A path to a credential file, or a reference (valueFrom), is not a credential.
  EXPECT_TRUE(ParseCodeSyncConfig(
                  R"({"source":"https://x/y.git","envs":[
                       {"name":"GIT_SSH_KNOWN_HOSTS_FILE","value":"/etc/k"},
                       {"name":"HADOOP_TOKEN_FILE_LOCATION","value":"/etc/t"},
                       {"name":"GIT_SYNC_PASSWORD","valueFrom":{"secretKeyRef":{"name":"s","key":"p"}}},
                       {"name":"TOKENIZER_MODEL","value":"bpe"}]})")
                  .ok());
}

TEST(CodeSyncTest, SecretRefIsReadForGitHttpAndS3) {
  auto git = ParseCodeSyncConfig(
      R"({"source":"https://x/y.git","user":"bot","secretRef":{"name":"git-creds.team-a"}})");
  ASSERT_TRUE(git.ok()) << git.status();
  EXPECT_EQ(git->secret_name, "git-creds.team-a");
  auto ssh = ParseCodeSyncConfig(
      R"({"source":"git@h:org/r.git","ssh":true,"secretRef":{"name":"ssh-key"}})");
  ASSERT_TRUE(ssh.ok()) << ssh.status();
  EXPECT_EQ(ssh->secret_name, "ssh-key");
  auto http = ParseCodeSyncConfig(
      R"({"sourceType":"http","source":"https://h/c.zip","image":"i","secretRef":{"name":"t"}})");
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->secret_name, "t");
  auto s3 = ParseCodeSyncConfig(
      R"({"sourceType":"s3","source":"s3://b/p","image":"i","secretRef":{"name":"s3"}})");
  ASSERT_TRUE(s3.ok()) << s3.status();
  EXPECT_EQ(s3->secret_name, "s3");
  auto none = ParseCodeSyncConfig(R"({"source":"https://x/y.git"})");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->secret_name.has_value());
}

TEST(CodeSyncTest, SecretRefFieldsAreValidated) {
  const std::string ref = kBase + ".secretRef";
  auto with = [](const std::string& secret_ref) {
    return Errors(R"({"source":"https://x/y.git","user":"u","secretRef":)" + secret_ref + "}");
  };
  EXPECT_THAT(with(R"({})"),
              Contains(ref + ".name: Required value: the name of a Secret in the job's "
                             "namespace"));
  EXPECT_THAT(with(R"({"name":""})"), Contains(HasSubstr(ref + ".name: Required value")));
  EXPECT_THAT(with(R"("creds")"),
              Contains(ref + ": Invalid value: \"creds\": must be of type object"));
  EXPECT_THAT(with(R"({"name":7})"),
              Contains(ref + ".name: Invalid value: 7: must be of type string"));
  const std::string subdomain =
      ": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
      "'-' or '.', and must start and end with an alphanumeric character, at most 253 "
      "characters";
  EXPECT_THAT(with(R"({"name":"Git_Creds"})"),
              Contains(ref + ".name: Invalid value: \"Git_Creds\"" + subdomain));
  for (const char* bad : {"-a", "a-", "a..b", ".a", "a/b", "a b"}) {
    EXPECT_THAT(with(absl::StrCat(R"({"name":")", bad, R"("})")),
                Contains(HasSubstr(ref + ".name: Invalid value"))) << bad;
  }
  EXPECT_TRUE(with(absl::StrCat(R"({"name":")", std::string(253, 'a'), R"("})")).empty());
  EXPECT_THAT(with(absl::StrCat(R"({"name":")", std::string(254, 'a'), R"("})")),
              Contains(HasSubstr(ref + ".name: Invalid value")));
  // The whole Secret is mounted: a key (or anything else) beside the name is refused.
  EXPECT_THAT(with(R"({"name":"c","key":"password"})"),
              Contains(ref + ".key: Forbidden: not a field of secretRef: the whole Secret is "
                             "mounted and each source type reads fixed keys from it "
                             "(docs/code-sync.md)"));
}

TEST(CodeSyncTest, SecretRefNeedsAUserForGitOverHttpAndIsNotForHdfs) {
  EXPECT_THAT(Errors(R"({"source":"https://x/y.git","secretRef":{"name":"c"}})"),
              Contains(kBase + ".user: Required value: the user name that goes with the "
                               "Secret's \"password\" (or set ssh)"));
  EXPECT_THAT(Errors(R"({"sourceType":"hdfs","source":"hdfs://nn/c","image":"i",
                        "secretRef":{"name":"c"}})"),
              Contains(kBase + ".secretRef: Forbidden: only for sourceType git, http or s3"));
}

TEST(CodeSyncTest, AbsentAnnotationMeansNoCodeSync) {
  auto config = CodeSyncOf({{"other", "x"}});
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->has_value());
  EXPECT_FALSE(CodeSyncOf({{"kubedl.io/git-sync-config", "{"}}).ok());
}

}  // namespace
}  // namespace kubedl::api
