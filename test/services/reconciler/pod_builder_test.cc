// A replica's pod and headless service as core/pod_builder.h builds them: name, labels, owner,
// restart policy, the plug-in's decoration, the gang binding, and the service's ports.
#include "core/pod_builder.h"

#include <string>

#include "core/pod_identity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PodBuilderTest : public ::testing::Test {
 protected:
  // The pod of `type`/`index` of the TFJob with these replica specs.
  BuiltPod Pod(const Object& replica_specs, const std::string& type = "Worker",
               int64_t index = 0) {
    job_ = JobOf(TfJob(replica_specs));
    return PodBuilder(job_, framework_, options_, gang_).Pod(*job_.FindReplica(type), index);
  }
  Object Service(const Object& replica_specs, const std::string& type = "Worker",
                 int64_t index = 0) {
    job_ = JobOf(TfJob(replica_specs));
    return PodBuilder(job_, framework_, options_, gang_).Service(*job_.FindReplica(type), index);
  }
  static std::string PolicyOf(const BuiltPod& built) {
    return built.pod->at("spec").value("restartPolicy", "<unset>");
  }

  api::Job job_;
  ScriptedFramework framework_{api::JobKind::kTFJob};
  FrameworkOptions options_;
  GangClient* gang_ = nullptr;
};

TEST(ControllerReference, NamesTheJobAsItsBlockingController) {
  const api::Job job = JobOf(TfJob(Workers(1)));
  EXPECT_EQ(ControllerReference(job), Object({{"apiVersion", "kubeflow.org/v1"},
                                              {"kind", "TFJob"},
                                              {"name", "job"},
                                              {"uid", "job-uid"},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}));
}

TEST_F(PodBuilderTest, ThePodIsNamedLabelledAndOwnedByTheJob) {
  Object tmpl = Template();
  tmpl["metadata"] = {{"labels", {{"team", "vision"}}}, {"annotations", {{"note", "kept"}}}};
  const BuiltPod built = Pod(Workers(3, "Never", tmpl), "Worker", 2);
  ASSERT_TRUE(built.pod.has_value());
  EXPECT_THAT(built.notes, IsEmpty());
  EXPECT_FALSE(built.retry);
  const Object& pod = *built.pod;
  EXPECT_EQ(pod["apiVersion"], "v1");
  EXPECT_EQ(pod["kind"], "Pod");
  EXPECT_EQ(pod["metadata"]["name"], "job-worker-2");
  EXPECT_EQ(pod["metadata"]["namespace"], "ns");
  ExpectLabels(pod["metadata"]["labels"],
               {{"team", "vision"}, {"training.kubeflow.org/replica-type", "worker"},
                {"training.kubeflow.org/replica-index", "2"},
                {"training.kubeflow.org/job-role", "<absent>"}});
  for (const auto& [k, v] : ReplicaLabels(api::JobKind::kTFJob, "job", "Worker", 2, false)) {
    EXPECT_EQ(pod["metadata"]["labels"].value(k, ""), v) << k;
  }
  EXPECT_EQ(pod["metadata"]["annotations"]["note"], "kept");
  EXPECT_EQ(pod["metadata"]["annotations"]["decorated"], "Worker-2") << "the plug-in's changes";
  EXPECT_EQ(pod["metadata"]["ownerReferences"], Object::array({ControllerReference(job_)}));
  EXPECT_EQ(pod["spec"]["containers"][0]["name"], "tensorflow");
}

TEST_F(PodBuilderTest, TheFrameworksMasterCarriesTheMasterRole) {
  const BuiltPod chief = Pod({{"Chief", Workers(1)["Worker"]}}, "Chief", 0);
  ExpectLabels(chief.pod->at("metadata").at("labels"),
               {{"training.kubeflow.org/job-role", "master"}, {"job-role", "master"}});
}

TEST_F(PodBuilderTest, TheReplicasRestartPolicyIsWrittenIntoThePod) {
  EXPECT_EQ(PolicyOf(Pod(Workers(1, "OnFailure"))), "OnFailure");
  EXPECT_EQ(PolicyOf(Pod(Workers(1, "Always"))), "Always");
  EXPECT_EQ(PolicyOf(Pod(Workers(1, "Never"))), "Never");
}

TEST_F(PodBuilderTest, ExitCodeBecomesNeverOnThePod) {
  const BuiltPod built = Pod(Workers(1, "ExitCode"));
  EXPECT_EQ(PolicyOf(built), "Never");
  EXPECT_THAT(built.notes, IsEmpty());
  EXPECT_THAT(Pod(Workers(1, "ExitCode", Template("Never"))).notes, IsEmpty())
      << "the template already says what the pod gets";
}

TEST_F(PodBuilderTest, ATemplateWithAnotherRestartPolicyIsOverwrittenWithAWarning) {
  const BuiltPod built = Pod(Workers(1, "ExitCode", Template("OnFailure")));
  EXPECT_EQ(PolicyOf(built), "Never");
  ASSERT_EQ(built.notes.size(), 1u);
  EXPECT_EQ(built.notes[0].type, "Warning");
  EXPECT_EQ(built.notes[0].reason, "SetPodTemplateRestartPolicy");
  EXPECT_EQ(built.notes[0].message,
            "Restart policy in pod template will be overwritten by restart policy in replica "
            "spec");
  EXPECT_TRUE(built.pod.has_value()) << "a warning, not a refusal";
}

TEST_F(PodBuilderTest, APluginThatCannotDecorateThePodGivesNoPodAndAFailedCreatePodNote) {
  framework_.decorate_error = absl::InvalidArgumentError("no tensorflow container");
  const BuiltPod built = Pod(Workers(2), "Worker", 1);
  EXPECT_FALSE(built.pod.has_value());
  EXPECT_FALSE(built.retry) << "the same spec can only fail again";
  ASSERT_EQ(built.notes.size(), 1u);
  EXPECT_EQ(built.notes[0].type, "Warning");
  EXPECT_EQ(built.notes[0].reason, "FailedCreatePod");
  EXPECT_EQ(built.notes[0].message, "Error creating pod job-worker-1: no tensorflow container");
}

TEST_F(PodBuilderTest, TheGangBindingAddsLabelsAnnotationsAndTheSchedulerName) {
  ScriptedGang gang;
  gang_ = &gang;
  Object tmpl = Template();
  tmpl["spec"]["schedulerName"] = "default-scheduler";
  const BuiltPod built = Pod(Workers(2, "Never", tmpl), "Worker", 1);
  ASSERT_TRUE(built.pod.has_value());
  EXPECT_THAT(built.notes, IsEmpty());
  EXPECT_EQ(built.pod->at("metadata").at("labels").at("gang-label"), "job");
  EXPECT_EQ(built.pod->at("metadata").at("annotations").at("gang-annotation"), "Worker-1");
  EXPECT_EQ(built.pod->at("spec").at("schedulerName"), "gang-scheduler");
  EXPECT_THAT(gang.bound_template_schedulers, ElementsAre("default-scheduler"));
}

TEST_F(PodBuilderTest, AnEmptyBoundSchedulerNameKeepsTheTemplatesAndAWarningBecomesANote) {
  ScriptedGang gang;
  gang.scheduler_name = "";
  gang.binding_warning = "schedulerName volcano is not the gang's";
  gang_ = &gang;
  Object tmpl = Template();
  tmpl["spec"]["schedulerName"] = "volcano";
  const BuiltPod built = Pod(Workers(1, "Never", tmpl));
  ASSERT_TRUE(built.pod.has_value());
  EXPECT_EQ(built.pod->at("spec").at("schedulerName"), "volcano");
  ASSERT_EQ(built.notes.size(), 1u);
  EXPECT_EQ(built.notes[0].reason, "GangSchedulerName");
  EXPECT_EQ(built.notes[0].message, "schedulerName volcano is not the gang's");
}

TEST_F(PodBuilderTest, AFailedGangBindingGivesNoPodAndAsksForARetry) {
  ScriptedGang gang;
  gang.bind_error = absl::UnavailableError("gang service unreachable");
  gang_ = &gang;
  const BuiltPod built = Pod(Workers(1));
  EXPECT_FALSE(built.pod.has_value()) << "never a pod outside its gang";
  EXPECT_TRUE(built.retry);
  ASSERT_EQ(built.notes.size(), 1u);
  EXPECT_EQ(built.notes[0].type, "Warning");
  EXPECT_EQ(built.notes[0].reason, "GangSchedulingFailed");
  EXPECT_EQ(built.notes[0].message,
            "Binding pod job-worker-0 to its gang failed: gang service unreachable");
}

TEST_F(PodBuilderTest, TheServiceIsHeadlessNamedLabelledAndOwnedLikeItsPod) {
  const Object svc = Service(Workers(2), "Worker", 1);
  EXPECT_EQ(svc["apiVersion"], "v1");
  EXPECT_EQ(svc["kind"], "Service");
  EXPECT_EQ(svc["metadata"]["name"], "job-worker-1");
  EXPECT_EQ(svc["metadata"]["namespace"], "ns");
  EXPECT_EQ(svc["metadata"]["ownerReferences"], Object::array({ControllerReference(job_)}));
  for (const auto& [k, v] : ReplicaLabels(api::JobKind::kTFJob, "job", "Worker", 1, false)) {
    EXPECT_EQ(svc["metadata"]["labels"].value(k, ""), v) << k;
  }
  EXPECT_EQ(svc["spec"]["clusterIP"], "None");
}

TEST_F(PodBuilderTest, TheServiceSelectsExactlyItsReplicasPod) {
  const Object svc = Service(Workers(2), "Worker", 1);
  EXPECT_EQ(svc["spec"]["selector"],
            Object({{"training.kubeflow.org/operator-name", "tfjob-controller"},
                    {"training.kubeflow.org/job-name", "job"},
                    {"training.kubeflow.org/replica-type", "worker"},
                    {"training.kubeflow.org/replica-index", "1"}}));
}

TEST_F(PodBuilderTest, WithoutNamedContainerPortsTheServiceHasTheKindsDefaultPort) {
  Object tmpl = Template();
  tmpl["spec"]["containers"][0]["ports"] = Object::array({{{"containerPort", 8080}}});
  EXPECT_EQ(Service(Workers(1, "Never", tmpl))["spec"]["ports"],
            Object::array({{{"name", "tfjob-port"}, {"port", 2222}, {"targetPort", 2222}}}));
  EXPECT_EQ(Service(Workers(1))["spec"]["ports"],
            Object::array({{{"name", "tfjob-port"}, {"port", 2222}, {"targetPort", 2222}}}));
}

TEST_F(PodBuilderTest, TheServiceOpensEveryNamedPortOfTheFrameworkContainer) {
  Object tmpl = Template();
  tmpl["spec"]["containers"][0]["ports"] = Object::array(
      {{{"name", "tfjob-port"}, {"containerPort", 3333}},
       {{"containerPort", 8080}},
       {{"name", "metrics"}, {"containerPort", 9090}}});
  tmpl["spec"]["containers"].push_back(
      {{"name", "sidecar"}, {"image", "s"}, {"ports", {{{"name", "side"}, {"containerPort", 1}}}}});
  EXPECT_EQ(Service(Workers(1, "Never", tmpl))["spec"]["ports"],
            Object::array({{{"name", "tfjob-port"}, {"port", 3333}, {"targetPort", 3333}},
                           {{"name", "metrics"}, {"port", 9090}, {"targetPort", 9090}}}));
}

}  // namespace
}  // namespace kubedl::reconciler::testing
