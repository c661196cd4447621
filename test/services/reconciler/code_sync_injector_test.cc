#include "core/code_sync_injector.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler {
namespace {

using testing::Env;
using testing::ParsedJob;
using testing::Replica;

api::Job JobWithAnnotation(const std::string& annotation_json, const std::string& worker_extra = "") {
  api::Json job = api::Json::parse(
      R"({"apiVersion":"kubeflow.org/v1","kind":"TFJob","metadata":{"name":"j","namespace":"n"},
          "spec":{"tfReplicaSpecs":{"Worker":)" + Replica(1, "tensorflow", worker_extra) + "}}}");
  if (!annotation_json.empty()) {
    job["metadata"]["annotations"] = {{"kubedl.io/git-sync-config", annotation_json}};
  }
  return ParsedJob(job.dump());
}

api::Json Pod(const api::Job& job) {
  return {{"metadata", {{"name", "p"}}},
          {"spec", job.FindReplica("Worker")->spec.template_spec["spec"]}};
}

TEST(CodeSync, NoAnnotationChangesNothing) {
  api::Job job = JobWithAnnotation("");
  api::Json pod = Pod(job);
  const api::Json before = pod;
  ASSERT_TRUE(InjectCodeSync(job, pod).ok());
  EXPECT_EQ(pod, before);
}

TEST(CodeSync, GitInjectsInitContainerVolumeAndMounts) {
  api::Job job = JobWithAnnotation(
      R"({"source":"https://github.com/org/models.git","branch":"main","depth":1,"user":"u"})",
      R"(,"workingDir":"/workspace")");
  api::Json pod = Pod(job);
  ASSERT_TRUE(InjectCodeSync(job, pod).ok());
  const api::Json& init = pod["spec"]["initContainers"][0];
  EXPECT_EQ(init["name"], "git-sync-code");
  EXPECT_EQ(Env(init, "GIT_SYNC_REPO"), "https://github.com/org/models.git");
  EXPECT_EQ(Env(init, "GIT_SYNC_ONE_TIME"), "true");
  EXPECT_EQ(Env(init, "GIT_SYNC_MAX_SYNC_FAILURES"), "3");
  EXPECT_EQ(Env(init, "GIT_SYNC_BRANCH"), "main");
  EXPECT_EQ(Env(init, "GIT_SYNC_DEPTH"), "1");
  EXPECT_EQ(Env(init, "GIT_SYNC_ROOT"), "/code");
  EXPECT_EQ(Env(init, "GIT_SYNC_DEST"), "models");
  EXPECT_EQ(Env(init, "GIT_SYNC_USERNAME"), "u");
  EXPECT_EQ(Env(init, "GIT_SYNC_REV"), "<unset>");
  EXPECT_EQ(pod["spec"]["volumes"][0],
            api::Json::parse(R"({"name":"git-sync","emptyDir":{}})"));
  EXPECT_EQ(pod["spec"]["containers"][0]["volumeMounts"][0],
            api::Json::parse(
                R"({"name":"git-sync","mountPath":"/workspace/models","subPath":"models"})"));
}

TEST(CodeSync, WithoutWorkingDirTheCodeIsMountedUnderRootPath) {
  api::Job job = JobWithAnnotation(R"({"source":"https://h/org/repo.git","rootPath":"/src"})");
  api::Json pod = Pod(job);
  ASSERT_TRUE(InjectCodeSync(job, pod).ok());
  EXPECT_EQ(pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"], "/src/repo");
}

TEST(CodeSync, OtherSourcesUseTheirOwnInitContainers) {
  for (const auto& [annotation, name, env] :
       {std::tuple{R"({"sourceType":"http","source":"https://h/code.tar.gz","image":"fetch:1"})",
                   "code-sync-http", "CODE_SOURCE"},
        std::tuple{R"({"sourceType":"hdfs","source":"hdfs://nn:8020/code","image":"hadoop:3","user":"etl"})",
                   "code-sync-hdfs", "HADOOP_USER_NAME"},
        std::tuple{R"({"sourceType":"s3","source":"s3://b/p","endpoint":"https://minio:9000","image":"aws:2"})",
                   "code-sync-s3", "CODE_S3_ENDPOINT"}}) {
    api::Job job = JobWithAnnotation(annotation);
    api::Json pod = Pod(job);
    ASSERT_TRUE(InjectCodeSync(job, pod).ok()) << annotation;
    const api::Json& init = pod["spec"]["initContainers"][0];
    EXPECT_EQ(init["name"], name);
    EXPECT_NE(Env(init, env), "<unset>") << name;
    EXPECT_EQ(init["command"][0], "sh");
    // Values reach the script as env vars, never spliced into it.
    EXPECT_EQ(std::string(init["command"][2]).find("minio"), std::string::npos);
  }
}

// Every env entry of every container: (name, value) for those with a value.
std::vector<std::pair<std::string, std::string>> EnvValues(const api::Json& pod) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& c : pod["spec"].value(list, api::Json::array())) {
      for (const auto& e : c.value("env", api::Json::array())) {
        if (e.contains("value")) out.emplace_back(e["name"], e["value"].dump());
      }
    }
  }
  return out;
}

TEST(CodeSync, GitSecretRefIsAReadOnlySecretVolumeOfTheInitContainerOnly) {
  api::Job job = JobWithAnnotation(
      R"({"source":"https://git.example.com/org/models.git","user":"bot",
          "secretRef":{"name":"git-creds"}})",
      R"(,"workingDir":"/workspace")");
  api::Json pod = Pod(job);
  ASSERT_TRUE(InjectCodeSync(job, pod).ok());
  EXPECT_EQ(pod["spec"]["volumes"][1], api::Json::parse(R"(
      {"name":"code-sync-credentials","secret":{"secretName":"git-creds","defaultMode":256}})"));
  const api::Json& init = pod["spec"]["initContainers"][0];
  EXPECT_EQ(init["volumeMounts"][1], api::Json::parse(R"(
      {"name":"code-sync-credentials","mountPath":"/etc/kubedl/code-sync-credentials",
       "readOnly":true})"));
  // git-sync reads the password from the Secret's file; no credential is an env value.
  EXPECT_EQ(Env(init, "GIT_SYNC_PASSWORD_FILE"), "/etc/kubedl/code-sync-credentials/password");
  EXPECT_EQ(Env(init, "GIT_SYNC_USERNAME"), "bot");
  EXPECT_EQ(Env(init, "GIT_SYNC_PASSWORD"), "<unset>");
  for (const auto& [name, value] : EnvValues(pod)) {
    EXPECT_TRUE(name.find("PASSWORD") == std::string::npos || name == "GIT_SYNC_PASSWORD_FILE")
        << name << "=" << value;
  }
  // The training containers get the code, never the credentials.
  const api::Json& mounts = pod["spec"]["containers"][0]["volumeMounts"];
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0]["name"], "git-sync");
}

TEST(CodeSync, GitOverSshReadsTheKeyAndKnownHostsFromTheSecret) {
  api::Job job = JobWithAnnotation(
      R"({"source":"git@github.com:org/repo.git","ssh":true,"secretRef":{"name":"deploy-key"}})");
  api::Json pod = Pod(job);
  ASSERT_TRUE(InjectCodeSync(job, pod).ok());
  const api::Json& init = pod["spec"]["initContainers"][0];
  EXPECT_EQ(Env(init, "GIT_SYNC_SSH"), "true");
  EXPECT_EQ(Env(init, "GIT_SSH_KEY_FILE"), "/etc/kubedl/code-sync-credentials/ssh-privatekey");
  EXPECT_EQ(Env(init, "GIT_SSH_KNOWN_HOSTS_FILE"),
            "/etc/kubedl/code-sync-credentials/known_hosts");
  EXPECT_EQ(Env(init, "GIT_SYNC_PASSWORD_FILE"), "<unset>");
  EXPECT_EQ(pod["spec"]["volumes"][1]["secret"]["secretName"], "deploy-key");
}

TEST(CodeSync, HttpAndS3SecretRefIsTheCredentialsFolderOfTheirScripts) {
  for (const char* annotation :
       {R"({"sourceType":"http","source":"https://h/c.tar.gz","image":"i","secretRef":{"name":"web"}})",
        R"({"sourceType":"s3","source":"s3://b/p","image":"i","secretRef":{"name":"web"}})"}) {
    api::Job job = JobWithAnnotation(annotation);
    api::Json pod = Pod(job);
    ASSERT_TRUE(InjectCodeSync(job, pod).ok()) << annotation;
    const api::Json& init = pod["spec"]["initContainers"][0];
    EXPECT_EQ(Env(init, "CODE_CREDENTIALS"), "/etc/kubedl/code-sync-credentials") << annotation;
    EXPECT_EQ(init["volumeMounts"][1]["mountPath"], "/etc/kubedl/code-sync-credentials");
    EXPECT_EQ(init["volumeMounts"][1]["readOnly"], true);
    EXPECT_EQ(pod["spec"]["volumes"][1]["secret"]["secretName"], "web");
  }
}

TEST(CodeSync, WithoutSecretRefThereIsNoCredentialsVolume) {
  api::Job job = JobWithAnnotation(R"({"source":"https://h/org/repo.git"})");
  api::Json pod = Pod(job);
  ASSERT_TRUE(InjectCodeSync(job, pod).ok());
  EXPECT_EQ(pod["spec"]["volumes"].size(), 1u);
  EXPECT_EQ(pod["spec"]["initContainers"][0]["volumeMounts"].size(), 1u);
  EXPECT_EQ(Env(pod["spec"]["initContainers"][0], "GIT_SYNC_PASSWORD_FILE"), "<unset>");
}

// The webhook refuses these; a reconciler reached without it must not copy them into a pod.
TEST(CodeSync, InlineCredentialsNeverReachAPodEvenWithoutTheWebhook) {
  for (const char* bad :
       {R"({"source":"https://x/y.git","user":"u","password":"hunter2-secret"})",
        R"({"source":"https://x/y.git","user":"u","secretRef":{"name":"c"},"password":"hunter2-secret"})",
        R"({"source":"https://u:hunter2-secret@x/y.git"})",
        R"({"sourceType":"s3","source":"s3://b/p","image":"i",
            "envs":[{"name":"AWS_SECRET_ACCESS_KEY","value":"hunter2-secret"}]})"}) {
    api::Job job = JobWithAnnotation(bad);
    api::Json pod = Pod(job);
    const api::Json before = pod;
    absl::Status s = InjectCodeSync(job, pod);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(pod, before) << bad;
    EXPECT_EQ(std::string(s.message()).find("hunter2-secret"), std::string::npos) << s;
  }
}

TEST(CodeSync, MalformedAnnotationIsAnErrorNotACrash) {
  for (const char* bad : {"{not json", R"({"branch":"main"})", R"({"source":5})"}) {
    api::Job job = JobWithAnnotation(bad);
    api::Json pod = Pod(job);
    absl::Status s = InjectCodeSync(job, pod);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace kubedl::reconciler
