#include <memory>

#include "backend_registry.h"
#include "gtest/gtest.h"

namespace kubedl::gang {
namespace {

using nlohmann::json;

v1::EnsureGangRequest Request() {
  v1::EnsureGangRequest request;
  request.mutable_job()->set_name("mnist");
  request.mutable_job()->set_namespace_("team");
  request.set_min_member(5);
  return request;
}

v1::BindPodRequest Bind(std::string scheduler = "") {
  v1::BindPodRequest request;
  request.mutable_job()->set_name("mnist");
  request.set_replica_type("Worker");
  request.set_index(3);
  request.set_current_scheduler_name(std::move(scheduler));
  return request;
}

std::unique_ptr<GangBackend> Backend(absl::string_view name) {
  absl::StatusOr<std::unique_ptr<GangBackend>> backend = MakeBackend(name, BackendOptions{});
  EXPECT_TRUE(backend.ok()) << backend.status();
  return std::move(backend).value();
}

TEST(Backends, UnknownNameIsRefusedWithTheValidNames) {
  absl::StatusOr<std::unique_ptr<GangBackend>> backend = MakeBackend("yunikorn", {});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().message(),
            "unknown gang scheduler backend \"yunikorn\"; valid backends: volcano, "
            "scheduler-plugins, kube-batch");
}

TEST(Backends, EachManagesItsOwnPodGroupGroupVersion) {
  EXPECT_EQ(Backend("volcano")->PodGroupResource().ApiVersion(), "scheduling.volcano.sh/v1beta1");
  EXPECT_EQ(Backend("scheduler-plugins")->PodGroupResource().ApiVersion(),
            "scheduling.x-k8s.io/v1alpha1");
  EXPECT_EQ(Backend("kube-batch")->PodGroupResource().ApiVersion(),
            "scheduling.incubator.k8s.io/v1alpha1");
}

TEST(VolcanoBackend, SpecCarriesMinMemberQueueDefaultPriorityAndMinResources) {
  v1::EnsureGangRequest request = Request();
  request.set_priority_class_name("high");
  kube::ResourceList resources{{"cpu", *kube::Quantity::Parse("2500m")}};
  json spec = Backend("volcano")->DesiredSpec(request, resources);
  EXPECT_EQ(spec, json::parse(R"({"minMember":5,"queue":"default","priorityClassName":"high",
                                  "minResources":{"cpu":"2500m"}})"));
  request.set_queue("research");
  EXPECT_EQ(Backend("volcano")->DesiredSpec(request, {})["queue"], "research");
}

TEST(VolcanoBackend, AQueueAlreadyOnThePodGroupIsKept) {
  auto backend = Backend("volcano");
  json existing = {{"minMember", 3}, {"queue", "assigned"}};
  json desired = {{"minMember", 5}, {"queue", "default"}};
  EXPECT_TRUE(backend->MergeSpec(desired, existing));
  EXPECT_EQ(existing["queue"], "assigned");
  EXPECT_EQ(existing["minMember"], 5);
  EXPECT_FALSE(backend->MergeSpec(desired, existing)) << "a second merge changes nothing";
}

TEST(VolcanoBackend, PodsWaitWhileThePhaseIsEmptyOrPending) {
  auto backend = Backend("volcano");
  EXPECT_EQ(backend->Admission(json::object()), v1::Gang::PENDING);
  EXPECT_EQ(backend->Admission({{"status", {{"phase", "Pending"}}}}), v1::Gang::PENDING);
  EXPECT_EQ(backend->Admission({{"status", {{"phase", "Inqueue"}}}}), v1::Gang::ADMITTED);
  EXPECT_EQ(backend->Admission({{"status", {{"phase", "Running"}}}}), v1::Gang::ADMITTED);
}

TEST(VolcanoBackend, BindingAnnotatesGroupAndTaskAndSetsTheSchedulerWhenEmpty) {
  v1::BindPodResponse binding = Backend("volcano")->Binding(Bind());
  EXPECT_EQ(binding.annotations().at("scheduling.k8s.io/group-name"), "mnist");
  EXPECT_EQ(binding.annotations().at("volcano.sh/task-spec"), "worker");
  EXPECT_TRUE(binding.labels().empty());
  EXPECT_EQ(binding.scheduler_name(), "volcano");
  EXPECT_TRUE(binding.warning().empty());
}

TEST(Backends, AnotherSchedulerInTheTemplateIsLeftWithAWarning) {
  for (absl::string_view name : {"volcano", "scheduler-plugins", "kube-batch"}) {
    v1::BindPodResponse binding = Backend(name)->Binding(Bind("my-scheduler"));
    EXPECT_TRUE(binding.scheduler_name().empty()) << name;
    EXPECT_NE(binding.warning().find("my-scheduler"), std::string::npos) << name;
  }
}

TEST(SchedulerPluginsBackend, SpecHasMinResourcesAlwaysAndTheScheduleTimeout) {
  v1::EnsureGangRequest request = Request();
  request.set_schedule_timeout_seconds(120);
  request.set_queue("ignored");
  json spec = Backend("scheduler-plugins")->DesiredSpec(request, {});
  EXPECT_EQ(spec, json::parse(R"({"minMember":5,"minResources":{},"scheduleTimeoutSeconds":120})"));
}

TEST(SchedulerPluginsBackend, BindingLabelsThePodAndUsesTheConfiguredScheduler) {
  BackendOptions options;
  options.scheduler_plugins_scheduler_name = "coscheduler";
  auto backend = std::move(MakeBackend("scheduler-plugins", options)).value();
  v1::BindPodResponse binding = backend->Binding(Bind());
  EXPECT_EQ(binding.labels().at("scheduling.x-k8s.io/pod-group"), "mnist");
  EXPECT_EQ(binding.scheduler_name(), "coscheduler");
  EXPECT_EQ(backend->Admission(json::object()), v1::Gang::ADMITTED);
}

TEST(KubeBatchBackend, SpecIsMinMemberAndBindingIsTheGroupAnnotation) {
  auto backend = Backend("kube-batch");
  EXPECT_EQ(backend->DesiredSpec(Request(), {{"cpu", *kube::Quantity::Parse("1")}}),
            json::parse(R"({"minMember":5})"));
  v1::BindPodResponse binding = backend->Binding(Bind());
  EXPECT_EQ(binding.annotations().at("scheduling.k8s.io/group-name"), "mnist");
  EXPECT_EQ(binding.scheduler_name(), "kube-batch");
}


TEST(Backends, AFieldTheJobNoLongerAsksForLeavesThePodGroupButOthersFieldsStay) {
  auto backend = Backend("volcano");
  json existing = {{"minMember", 5}, {"queue", "q"}, {"priorityClassName", "high"},
                   {"someoneElses", true}};
  json desired = {{"minMember", 5}, {"queue", "q"}};
  EXPECT_TRUE(backend->MergeSpec(desired, existing));
  EXPECT_FALSE(existing.contains("priorityClassName"));
  EXPECT_EQ(existing["someoneElses"], true);
}

}  // namespace
}  // namespace kubedl::gang
