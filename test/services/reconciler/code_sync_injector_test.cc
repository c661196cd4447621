#include "core/code_sync_injector.h"

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
