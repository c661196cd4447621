#include "kubedl/api/job_codec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::api {
namespace {

using testing::MinimalJob;
using testing::MustParse;

TEST(JobCodecTest, RoundTripIsExactIncludingUnknownFieldsAndKeyOrder) {
  Json in = Json::parse(R"({
    "apiVersion": "kubeflow.org/v1", "kind": "TFJob",
    "metadata": {"name": "demo", "labels": {"z": "1", "a": "2"}, "annotations": {"k": "v"}},
    "spec": {
      "zFirst": {"kept": true},
      "tfReplicaSpecs": {
        "Worker": {"spotReplicaSpec": {"spotReplicaNumber": 1}, "replicas": 3,
                   "template": {"metadata": {"labels": {"b": "c"}},
                                "spec": {"volumes": [], "containers": [
                                  {"image": "tf:2", "name": "tensorflow", "args": ["--x"]}]}}}
      },
      "runPolicy": {"cronPolicy": {"schedule": "* * * * *"}, "backoffLimit": 3},
      "enableDynamicWorker": true
    },
    "status": {"conditions": [{"type": "Created", "status": "True", "reason": "TFJobCreated"}],
               "custom": 1}
  })");
  Job job = MustParse(in);
  EXPECT_EQ(job.name, "demo");
  EXPECT_EQ(job.annotations.at("k"), "v");
  ASSERT_EQ(job.spec.replica_specs.size(), 1u);
  EXPECT_EQ(job.spec.replica_specs[0].spec.replicas, 3);
  EXPECT_EQ(job.spec.run_policy->backoff_limit, 3);
  EXPECT_EQ(job.spec.enable_dynamic_worker, true);
  EXPECT_EQ(job.status.conditions[0].reason, "TFJobCreated");
  Json out = ToJson(job);
  EXPECT_EQ(out.dump(), in.dump());  // same keys, same order
}

TEST(JobCodecTest, ParsingAMovedObjectAndWritingAMovedJobGiveWhatTheCopyingOverloadsGive) {
  Json in = MinimalJob(JobKind::kPyTorchJob);
  in["metadata"]["annotations"] = {{"k", "v"}};
  in["spec"]["backoffLimit"] = 2;  // a legacy key, so the written job differs from the input
  Job copied = MustParse(in);
  auto moved = ParseJob(Json(in));
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->raw, copied.raw);
  EXPECT_EQ(moved->annotations, copied.annotations);
  EXPECT_EQ(moved->spec.legacy_run_policy.backoff_limit, 2);
  ASSERT_EQ(moved->spec.replica_specs.size(), copied.spec.replica_specs.size());
  EXPECT_EQ(moved->spec.replica_specs[0].spec.template_spec,
            copied.spec.replica_specs[0].spec.template_spec);

  moved->spec.legacy_run_policy.backoff_limit = 5;
  copied.spec.legacy_run_policy.backoff_limit = 5;
  Json written_from_copy = ToJson(copied);
  EXPECT_EQ(written_from_copy["spec"]["backoffLimit"], 5);
  EXPECT_EQ(ToJson(*std::move(moved)), written_from_copy);

  Json bad = Json::array();
  EXPECT_EQ(ParseJob(std::move(bad)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JobCodecTest, WrongApiVersionOrKindIsRefused) {
  Json job = MinimalJob(JobKind::kTFJob);
  job["apiVersion"] = "kubeflow.org/v2";
  EXPECT_EQ(ParseJob(job).status().code(), absl::StatusCode::kInvalidArgument);
  job = MinimalJob(JobKind::kXDLJob);
  job["kind"] = "TFJob";
  EXPECT_FALSE(ParseJob(job).ok());
  EXPECT_FALSE(ParseJob(Json::array()).ok());
}

TEST(JobCodecTest, EveryKindParsesFromItsOwnApiVersion) {
  for (const auto& kind : AllKinds()) {
    Job job = MustParse(MinimalJob(kind.kind));
    EXPECT_EQ(job.kind, kind.kind);
    EXPECT_NE(job.FindReplica("Worker"), nullptr) << kind.name;
  }
}

TEST(JobCodecTest, StatusWritesConditionsAndReplicaStatuses) {
  JobStatus s;
  s.conditions.push_back({"Running", "True", "TFJobRunning", "m", "t1", "t0"});
  s.replica_statuses["Worker"] = {2, 1, 0, "a=b"};
  s.start_time = "t0";
  Json j = ToJson(s);
  EXPECT_EQ(j["replicaStatuses"]["Worker"]["active"], 2);
  EXPECT_EQ(j["replicaStatuses"]["Worker"]["selector"], "a=b");
  auto back = ParseJobStatus(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(KindTest, DescriptorsFollowTheSpecTable) {
  const auto& tf = Describe(JobKind::kTFJob);
  EXPECT_EQ(tf.plural, "tfjobs");
  EXPECT_EQ(tf.port, 2222);
  EXPECT_EQ(std::vector<std::string_view>(tf.replica_types.begin(), tf.replica_types.end()),
            (std::vector<std::string_view>{"PS", "Master", "Chief", "Worker", "Evaluator"}));
  const auto& xdl = Describe(JobKind::kXDLJob);
  EXPECT_EQ(std::vector<std::string_view>(xdl.replica_types.begin(), xdl.replica_types.end()),
            (std::vector<std::string_view>{"PS", "Scheduler", "Worker", "ExtendRole"}));
  EXPECT_EQ(Describe(JobKind::kPyTorchJob).port, 23456);
  EXPECT_EQ(Describe(JobKind::kXGBoostJob).short_name, "xgbjob");
  EXPECT_EQ(FindKindByName("pytorchjob")->kind, JobKind::kPyTorchJob);
  EXPECT_EQ(FindKind("xdl.kubedl.io/v1alpha1", "XDLJob")->kind, JobKind::kXDLJob);
  EXPECT_EQ(FindKind("kubeflow.org/v1", "XDLJob"), nullptr);
  EXPECT_EQ(CanonicalReplicaType(tf, "ps"), "PS");
  EXPECT_EQ(CanonicalReplicaType(tf, "launcher"), "");
}

}  // namespace
}  // namespace kubedl::api
