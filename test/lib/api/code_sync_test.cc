#include "kubedl/api/code_sync.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kubedl::api {
namespace {

using ::testing::Contains;

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

TEST(CodeSyncTest, AbsentAnnotationMeansNoCodeSync) {
  auto config = CodeSyncOf({{"other", "x"}});
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->has_value());
  EXPECT_FALSE(CodeSyncOf({{"kubedl.io/git-sync-config", "{"}}).ok());
}

}  // namespace
}  // namespace kubedl::api
