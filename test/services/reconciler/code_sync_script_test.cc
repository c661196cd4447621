// The init containers code sync injects for HTTP(S) archives, HDFS and S3 are shell scripts:
// these tests run them with `sh` the way the kubelet would (only the container's env), with fake
// `wget`, `hdfs` and `aws` first on PATH, and check what lands where.
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/code_sync_injector.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler {
namespace {

namespace fs = std::filesystem;
using testing::ParsedJob;
using testing::Replica;

std::string Quote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteExecutable(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  fs::permissions(p, fs::perms::owner_all);
}

class CodeSyncScript : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "code-sync-script-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "served");
    root_ = (dir_ / "root").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The init container the reconciler injects for this annotation.
  api::Json InitContainer(const std::string& annotation) {
    api::Json job = api::Json::parse(
        R"({"apiVersion":"kubeflow.org/v1","kind":"TFJob","metadata":{"name":"j","namespace":"n"},
            "spec":{"tfReplicaSpecs":{"Worker":)" + Replica(1, "tensorflow") + "}}}");
    job["metadata"]["annotations"] = {{"kubedl.io/git-sync-config", annotation}};
    api::Job parsed = ParsedJob(job.dump());
    api::Json pod = {{"metadata", {{"name", "p"}}},
                     {"spec", parsed.FindReplica("Worker")->spec.template_spec["spec"]}};
    absl::Status injected = InjectCodeSync(parsed, pod);
    EXPECT_TRUE(injected.ok()) << injected;
    return injected.ok() ? pod["spec"]["initContainers"][0] : api::Json::object();
  }

  // Runs the container's command with nothing but its env (and PATH); returns the exit code.
  // A CODE_CREDENTIALS value is replaced by `credentials` when given: the folder standing in for
  // the mounted Secret.
  int Run(const api::Json& init, const std::string& credentials = "") {
    // TMPDIR keeps the archive of tests running side by side apart.
    std::string cmd = absl::StrCat("env -i PATH=", Quote((dir_ / "bin").string() + ":/usr/bin:/bin"),
                                   " TMPDIR=", Quote(dir_.string()));
    for (const api::Json& e : init["env"]) {
      std::string value = e["value"].get<std::string>();
      if (e["name"] == "CODE_CREDENTIALS" && !credentials.empty()) value = credentials;
      absl::StrAppend(&cmd, " ", e["name"].get<std::string>(), "=", Quote(value));
    }
    EXPECT_EQ(init["command"][0], "sh");
    EXPECT_EQ(init["command"][1], "-c");
    absl::StrAppend(&cmd, " sh -c ", Quote(init["command"][2].get<std::string>()), " >",
                    Quote((dir_ / "out.log").string()), " 2>&1");
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string Log() { return Read(dir_ / "out.log"); }

  // A fake tool that appends its arguments (one a line) and the listed variables to <name>.args.
  void RecordingTool(const std::string& name, const std::string& vars = "") {
    WriteExecutable(dir_ / "bin" / name,
                    absl::StrCat("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done >> ",
                                 Quote((dir_ / (name + ".args")).string()), "\n", vars, "\n"));
  }
  std::string Args(const std::string& name) { return Read(dir_ / (name + ".args")); }

  // `wget -q -O OUT [--header H]... URL` served from dir_/served by the URL's last segment;
  // the arguments after OUT are appended to wget.args, one a line.
  void FakeWget() {
    WriteExecutable(
        dir_ / "bin" / "wget",
        absl::StrCat("#!/bin/sh\n[ \"$1 $2\" = \"-q -O\" ] || exit 2\nout=$3; shift 3\n",
                     "printf '%s\\n' \"$@\" >> ", Quote((dir_ / "wget.args").string()), "\n",
                     "for url in \"$@\"; do :; done\n", "cp ",
                     Quote((dir_ / "served").string()), "/\"${url##*/}\" \"$out\"\n"));
  }

  // A folder standing in for the mounted Secret, holding `keys` (name, content).
  std::string Credentials(const std::vector<std::pair<std::string, std::string>>& keys) {
    const fs::path folder = dir_ / "credentials";
    fs::create_directories(folder);
    for (const auto& [key, content] : keys) std::ofstream(folder / key) << content;
    return folder.string();
  }

  // A directory holding train.py, packed by `pack` (run inside it) into served/<archive>.
  void ServeArchive(const std::string& archive, const std::string& pack) {
    fs::create_directories(dir_ / "src");
    std::ofstream(dir_ / "src" / "train.py") << "print('training')\n";
    const std::string cmd =
        absl::StrCat("cd ", Quote((dir_ / "src").string()), " && ", pack, " ",
                     Quote((dir_ / "served" / archive).string()), " train.py >/dev/null");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  fs::path dir_;
  std::string root_;
};

TEST_F(CodeSyncScript, HttpTarGzIsDownloadedAndUnpackedIntoRootAndDest) {
  FakeWget();
  ServeArchive("trainer.tar.gz", "tar -czf");
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"http","source":"https://files.test/v1/trainer.tar.gz","image":"busybox",
          "rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init), 0) << Log();
  EXPECT_EQ(Read(fs::path(root_) / "trainer" / "train.py"), "print('training')\n");
}

TEST_F(CodeSyncScript, HttpZipIsUnpackedByItsExtension) {
  FakeWget();
  ServeArchive("model.zip", "zip -q");
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"http","source":"https://files.test/model.zip","image":"busybox",
          "destPath":"src/model","rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init), 0) << Log();
  EXPECT_EQ(Read(fs::path(root_) / "src" / "model" / "train.py"), "print('training')\n");
}

TEST_F(CodeSyncScript, HttpSendsTheSecretsTokenAsABearerHeader) {
  FakeWget();
  ServeArchive("trainer.tar.gz", "tar -czf");
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"http","source":"https://files.test/trainer.tar.gz","image":"busybox",
          "secretRef":{"name":"web"},"rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init, Credentials({{"token", "t0ken\n"}, {"password", "unused"}})), 0) << Log();
  EXPECT_EQ(Args("wget"),
            "--header\nAuthorization: Bearer t0ken\nhttps://files.test/trainer.tar.gz\n");
  EXPECT_EQ(Read(fs::path(root_) / "trainer" / "train.py"), "print('training')\n");
}

TEST_F(CodeSyncScript, HttpSendsBasicAuthFromTheSecretsUsernameAndPassword) {
  FakeWget();
  ServeArchive("trainer.tar.gz", "tar -czf");
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"http","source":"https://files.test/trainer.tar.gz","image":"busybox",
          "secretRef":{"name":"web"},"rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init, Credentials({{"username", "bot"}, {"password", "pa ss:w0rd"}})), 0)
      << Log();
  // base64("bot:pa ss:w0rd")
  EXPECT_EQ(Args("wget"), "--header\nAuthorization: Basic Ym90OnBhIHNzOncwcmQ=\n"
                          "https://files.test/trainer.tar.gz\n");
}

TEST_F(CodeSyncScript, HttpWithoutASecretSendsNoAuthorization) {
  FakeWget();
  ServeArchive("trainer.tar.gz", "tar -czf");
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"http","source":"https://files.test/trainer.tar.gz","image":"busybox",
          "rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init), 0) << Log();
  EXPECT_EQ(Args("wget"), "https://files.test/trainer.tar.gz\n");
}

TEST_F(CodeSyncScript, HttpWithASecretHoldingNeitherTokenNorPasswordFailsSayingSo) {
  FakeWget();
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"http","source":"https://files.test/trainer.tar.gz","image":"busybox",
          "maxFailures":1,"secretRef":{"name":"web"},"rootPath":")", root_, "\"}"));
  EXPECT_EQ(Run(init, Credentials({{"user", "bot"}})), 1);
  EXPECT_NE(Log().find("the Secret has neither token nor password"), std::string::npos) << Log();
  EXPECT_FALSE(fs::exists(dir_ / "wget.args"));
}

TEST_F(CodeSyncScript, S3GetsTheSecretsAccessKeysThroughTheAwsEnvironment) {
  RecordingTool("aws", absl::StrCat("echo \"id=$AWS_ACCESS_KEY_ID key=$AWS_SECRET_ACCESS_KEY "
                                    "token=${AWS_SESSION_TOKEN:-none}\" >> ",
                                    Quote((dir_ / "aws.args").string())));
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"s3","source":"s3://bucket/data","image":"aws-cli:2",
          "secretRef":{"name":"s3"},"rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init, Credentials({{"accessKeyId", "AKIA1\n"}, {"secretAccessKey", "s3cr3t"}})),
            0)
      << Log();
  EXPECT_EQ(Args("aws"), absl::StrCat("s3\ncp\n--recursive\ns3://bucket/data\n", root_,
                                      "/data\nid=AKIA1 key=s3cr3t token=none\n"));

  fs::remove(dir_ / "aws.args");
  ASSERT_EQ(Run(init, Credentials({{"sessionToken", "sess"}})), 0) << Log();
  EXPECT_NE(Args("aws").find("token=sess"), std::string::npos) << Args("aws");
}

TEST_F(CodeSyncScript, S3WithASecretMissingAKeyFailsNamingIt) {
  RecordingTool("aws");
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"s3","source":"s3://bucket/data","image":"aws-cli:2",
          "secretRef":{"name":"s3"},"rootPath":")", root_, "\"}"));
  EXPECT_EQ(Run(init, Credentials({{"accessKeyId", "AKIA1"}})), 1);
  EXPECT_NE(Log().find("the Secret has no key secretAccessKey"), std::string::npos) << Log();
  EXPECT_FALSE(fs::exists(dir_ / "aws.args"));
}

TEST_F(CodeSyncScript, HttpGivesUpAfterMaxFailures) {
  WriteExecutable(dir_ / "bin" / "wget",
                  absl::StrCat("#!/bin/sh\necho try >> ", Quote((dir_ / "tries").string()),
                               "\nexit 4\n"));
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"http","source":"https://down.test/code.tar.gz","image":"busybox",
          "maxFailures":2,"rootPath":")", root_, "\"}"));
  EXPECT_EQ(Run(init), 1);
  EXPECT_EQ(Read(dir_ / "tries"), "try\ntry\n");
  EXPECT_NE(Log().find("code sync failed 2 times"), std::string::npos) << Log();
}

TEST_F(CodeSyncScript, HdfsCopiesTheDirectoryAsTheConfiguredUser) {
  RecordingTool("hdfs", absl::StrCat("echo \"user=$HADOOP_USER_NAME\" >> ",
                                     Quote((dir_ / "hdfs.args").string())));
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"hdfs","source":"hdfs://nn:8020/teams/ml/code","user":"ml",
          "image":"hadoop:3","rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init), 0) << Log();
  EXPECT_EQ(Args("hdfs"), absl::StrCat("dfs\n-copyToLocal\n-f\nhdfs://nn:8020/teams/ml/code/.\n",
                                       root_, "/code\nuser=ml\n"));
  EXPECT_TRUE(fs::is_directory(fs::path(root_) / "code"));
}

TEST_F(CodeSyncScript, S3CopiesRecursivelyWithTheEndpointOnlyWhenGiven) {
  RecordingTool("aws");
  api::Json with_endpoint = InitContainer(absl::StrCat(
      R"({"sourceType":"s3","source":"s3://bucket/jobs/code","endpoint":"https://minio:9000",
          "image":"aws-cli:2","rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(with_endpoint), 0) << Log();
  EXPECT_EQ(Args("aws"),
            absl::StrCat("s3\ncp\n--recursive\n--endpoint-url\nhttps://minio:9000\n"
                         "s3://bucket/jobs/code\n", root_, "/code\n"));

  fs::remove(dir_ / "aws.args");
  api::Json plain = InitContainer(absl::StrCat(
      R"({"sourceType":"s3","source":"s3://bucket/data","image":"aws-cli:2","rootPath":")",
      root_, "\"}"));
  ASSERT_EQ(Run(plain), 0) << Log();
  EXPECT_EQ(Args("aws"), absl::StrCat("s3\ncp\n--recursive\ns3://bucket/data\n", root_, "/data\n"));
}

TEST_F(CodeSyncScript, ASourceWithShellCharactersIsOnlyData) {
  RecordingTool("aws");
  const std::string source = "s3://bucket/$(touch pwned);x";
  api::Json init = InitContainer(absl::StrCat(
      R"({"sourceType":"s3","source":")", source, R"(","destPath":"d","image":"aws-cli:2",
          "rootPath":")", root_, "\"}"));
  ASSERT_EQ(Run(init), 0) << Log();
  EXPECT_EQ(Args("aws"), absl::StrCat("s3\ncp\n--recursive\n", source, "\n", root_, "/d\n"));
  EXPECT_FALSE(fs::exists("pwned"));
  EXPECT_FALSE(fs::exists(dir_ / "pwned"));
}

}  // namespace
}  // namespace kubedl::reconciler
