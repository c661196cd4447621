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

TEST(JobCodecTest, MpiSlotsPerWorkerAndMainContainerRoundTrip) {
  Json in = MinimalJob(JobKind::kMPIJob);
  in["spec"]["slotsPerWorker"] = 4;
  in["spec"]["mainContainer"] = "mpi";
  in["spec"]["cleanPodPolicy"] = "Running";  // the legacy twin of runPolicy's
  Job job = MustParse(in);
  EXPECT_EQ(job.spec.slots_per_worker, 4);
  EXPECT_EQ(job.spec.main_container, "mpi");
  EXPECT_EQ(job.spec.legacy_run_policy.clean_pod_policy, "Running");
  EXPECT_EQ(ToJson(job).dump(), in.dump());
  job.spec.slots_per_worker = 2;
  job.spec.main_container.reset();
  Json out = ToJson(job);
  EXPECT_EQ(out["spec"]["slotsPerWorker"], 2);
  EXPECT_FALSE(out["spec"].contains("mainContainer"));
}

TEST(JobCodecTest, MpiWronglyTypedSpecKeysAreParseErrorsWithTheirPath) {
  Json in = MinimalJob(JobKind::kMPIJob);
  in["spec"]["slotsPerWorker"] = "two";
  in["spec"]["mainContainer"] = 1;
  FieldErrors errors;
  ASSERT_FALSE(ParseJob(in, &errors).ok());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].ToString(),
            "spec.slotsPerWorker: Invalid value: \"two\": must be of type integer");
  EXPECT_EQ(errors[1].ToString(), "spec.mainContainer: Invalid value: 1: must be of type string");
}

// The metrics go to an HPA as the user wrote them: numbers, key order and all.
TEST(JobCodecTest, PaddleElasticPolicyRoundTripsWithItsMetricsByteForByte) {
  Json in = MinimalJob(JobKind::kPaddleJob);
  in["spec"]["elasticPolicy"] = Json::parse(R"({"minReplicas": 1, "maxReplicas": 4,
      "maxRestarts": 3, "metrics": [{"type": "Resource", "resource": {"name": "cpu",
      "target": {"type": "Utilization", "averageUtilization": 80}}}, {"type": "Pods",
      "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue",
      "averageValue": "1.50", "zRatio": 0.250, "big": 1e3}}}]})");
  Job job = MustParse(in);
  ASSERT_TRUE(job.spec.elastic_policy);
  EXPECT_EQ(job.spec.elastic_policy->max_replicas, 4);
  EXPECT_EQ(job.spec.elastic_policy->max_restarts, 3);
  ASSERT_TRUE(job.spec.elastic_policy->metrics);
  EXPECT_EQ(job.spec.elastic_policy->metrics->value, in["spec"]["elasticPolicy"]["metrics"]);
  EXPECT_EQ(ToJson(job).dump(), in.dump());
}

TEST(JobCodecTest, ElasticPolicyMetricsOfAnyTypeAreKeptForValidationToJudge) {
  Json in = MinimalJob(JobKind::kPyTorchJob);
  in["spec"]["elasticPolicy"] = {{"metrics", "cpu"}};
  Job job = MustParse(in);
  ASSERT_TRUE(job.spec.elastic_policy && job.spec.elastic_policy->metrics);
  EXPECT_EQ(job.spec.elastic_policy->metrics->value, "cpu");
  EXPECT_EQ(ToJson(job), in);
}

TEST(JobCodecTest, ElasticPolicyMetricsSetInCodeAreWrittenAfterMaxRestarts) {
  Job job = MustParse(MinimalJob(JobKind::kPaddleJob));
  job.spec.elastic_policy.emplace();
  job.spec.elastic_policy->max_restarts = 2;
  job.spec.elastic_policy->metrics = RawJson{Json::parse(R"([{"type":"Resource"}])")};
  EXPECT_EQ(ToJson(job)["spec"]["elasticPolicy"].dump(),
            R"({"maxRestarts":2,"metrics":[{"type":"Resource"}]})");
}

TEST(JobCodecTest, PyTorchElasticNProcPerNodeRoundTrips) {
  Json in = MinimalJob(JobKind::kPyTorchJob);
  in["spec"]["elasticPolicy"] = Json::parse(R"({"minReplicas": 1, "maxReplicas": 2,
      "nProcPerNode": 8, "metrics": []})");
  Job job = MustParse(in);
  ASSERT_TRUE(job.spec.elastic_policy);
  EXPECT_EQ(job.spec.elastic_policy->n_proc_per_node, 8);
  EXPECT_FALSE(job.spec.nproc_per_node);  // the twin is not copied into spec.nprocPerNode
  EXPECT_EQ(ToJson(job).dump(), in.dump());
  in["spec"]["elasticPolicy"]["nProcPerNode"] = "8";
  FieldErrors errors;
  ASSERT_FALSE(ParseJob(in, &errors).ok());
  EXPECT_EQ(errors.at(0).ToString(),
            "spec.elasticPolicy.nProcPerNode: Invalid value: \"8\": must be of type integer");
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

// SPEC section 9's table.
TEST(KindTest, MpiPaddleAndJaxDescriptorsFollowTheSpecTable) {
  using Types = std::vector<std::string_view>;
  auto types = [](const KindDescriptor& k) {
    return Types(k.replica_types.begin(), k.replica_types.end());
  };
  const auto& mpi = Describe(JobKind::kMPIJob);
  EXPECT_EQ(mpi.plural, "mpijobs");
  EXPECT_EQ(mpi.short_name, "");
  EXPECT_EQ(mpi.replica_specs_key, "mpiReplicaSpecs");
  EXPECT_EQ(types(mpi), (Types{"Launcher", "Worker"}));
  EXPECT_EQ(mpi.container_name, "");
  EXPECT_TRUE(mpi.accepted_container_names.empty());
  EXPECT_EQ(mpi.port_name, "");
  EXPECT_EQ(mpi.default_restart_policy, "Never");
  EXPECT_EQ(mpi.default_clean_pod_policy, "None");
  const auto& paddle = Describe(JobKind::kPaddleJob);
  EXPECT_EQ(paddle.replica_specs_key, "paddleReplicaSpecs");
  EXPECT_EQ(types(paddle), (Types{"Master", "Worker"}));
  EXPECT_EQ(paddle.container_name, "paddle");
  EXPECT_EQ(paddle.port_name, "master");
  EXPECT_EQ(paddle.port, 36543);
  EXPECT_EQ(paddle.default_restart_policy, "OnFailure");
  const auto& jax = Describe(JobKind::kJAXJob);
  EXPECT_EQ(jax.replica_specs_key, "jaxReplicaSpecs");
  EXPECT_EQ(types(jax), (Types{"Worker"}));
  EXPECT_EQ(jax.port_name, "jaxjob-port");
  EXPECT_EQ(jax.port, 6666);
  EXPECT_EQ(jax.default_restart_policy, "Never");
  for (JobKind k : {JobKind::kMPIJob, JobKind::kPaddleJob, JobKind::kJAXJob}) {
    EXPECT_EQ(Describe(k).api_version, "kubeflow.org/v1");
    EXPECT_EQ(Describe(k).short_name, "") << Describe(k).name;
    EXPECT_EQ(FindKind("kubeflow.org/v1", Describe(k).name)->kind, k);
  }
  EXPECT_EQ(FindKindByName("mpijob")->kind, JobKind::kMPIJob);
  EXPECT_EQ(FindKindByName("PADDLEJOB")->kind, JobKind::kPaddleJob);
  EXPECT_EQ(FindKindByName("jaxjob")->kind, JobKind::kJAXJob);
  EXPECT_EQ(CanonicalReplicaType(mpi, "launcher"), "Launcher");
}

TEST(KindTest, TheMpiLauncherIsTheOnlyReplicaNamedWithoutAnIndex) {
  const auto& mpi = Describe(JobKind::kMPIJob);
  EXPECT_EQ(ReplicaObjectName(mpi, "pi", "Launcher", 0), "pi-launcher");
  EXPECT_EQ(ReplicaObjectName(mpi, "pi", "Worker", 1), "pi-worker-1");
  EXPECT_EQ(ReplicaObjectName(Describe(JobKind::kPaddleJob), "p", "Master", 0), "p-master-0");
  EXPECT_EQ(ReplicaObjectName(Describe(JobKind::kJAXJob), "j", "Worker", 3), "j-worker-3");
}

}  // namespace
}  // namespace kubedl::api
