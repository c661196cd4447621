#include "min_resources.h"

#include <map>

#include "gtest/gtest.h"

namespace kubedl::gang {
namespace {

v1::ReplicaResources* AddReplica(v1::EnsureGangRequest& request, std::string type, int replicas,
                                 std::string priority_class,
                                 std::map<std::string, std::string> requests) {
  v1::ReplicaResources* replica = request.add_replicas();
  replica->set_replica_type(std::move(type));
  replica->set_replicas(replicas);
  replica->set_priority_class_name(std::move(priority_class));
  for (auto& [k, v] : requests) (*replica->mutable_requests())[k] = v;
  return replica;
}

int32_t NoPriorities(const std::string&) { return 0; }

TEST(MinResources, SumsRequestsOfEveryPodWhenMinMemberIsTheReplicaSum) {
  v1::EnsureGangRequest request;
  request.set_min_member(5);
  AddReplica(request, "PS", 1, "", {{"cpu", "1"}, {"memory", "1Gi"}});
  AddReplica(request, "Worker", 4, "", {{"cpu", "500m"}, {"nvidia.com/gpu", "1"}});
  absl::StatusOr<kube::ResourceList> total = ComputeMinResources(request, NoPriorities);
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ(total->at("cpu").ToString(), "3");
  EXPECT_EQ(total->at("memory").ToString(), "1073741824");
  EXPECT_EQ(total->at("nvidia.com/gpu").ToString(), "4");
}

TEST(MinResources, TakesTheFirstMinMemberPodsByDescendingPriority) {
  v1::EnsureGangRequest request;
  request.set_min_member(3);
  AddReplica(request, "Worker", 4, "low", {{"cpu", "1"}});
  AddReplica(request, "Master", 1, "high", {{"cpu", "10"}});
  auto priorities = [](const std::string& name) { return name == "high" ? 1000 : 10; };
  absl::StatusOr<kube::ResourceList> total = ComputeMinResources(request, priorities);
  ASSERT_TRUE(total.ok());
  // Master (high) first: 10, then two of the four workers: 2.
  EXPECT_EQ(total->at("cpu").ToString(), "12");
}

TEST(MinResources, EqualPrioritiesKeepTheJobsReplicaOrder) {
  v1::EnsureGangRequest request;
  request.set_min_member(1);
  AddReplica(request, "PS", 1, "", {{"cpu", "2"}});
  AddReplica(request, "Worker", 1, "", {{"cpu", "7"}});
  EXPECT_EQ(ComputeMinResources(request, NoPriorities)->at("cpu").ToString(), "2");
}

TEST(MinResources, ThePolicysValueWinsOverComputation) {
  v1::EnsureGangRequest request;
  request.set_min_member(2);
  AddReplica(request, "Worker", 2, "", {{"cpu", "1"}});
  (*request.mutable_min_resources())["cpu"] = "64";
  absl::StatusOr<kube::ResourceList> resolved = ResolveMinResources(request, NoPriorities);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->size(), 1u);
  EXPECT_EQ(resolved->at("cpu").ToString(), "64");
}

TEST(MinResources, AMalformedRequestNamesItsReplicaAndResource) {
  v1::EnsureGangRequest request;
  request.set_min_member(1);
  AddReplica(request, "Worker", 1, "", {{"memory", "lots"}});
  absl::StatusOr<kube::ResourceList> total = ComputeMinResources(request, NoPriorities);
  ASSERT_FALSE(total.ok());
  EXPECT_EQ(total.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(total.status().message().find("replicas[Worker].requests.memory"), std::string::npos);
}

}  // namespace
}  // namespace kubedl::gang
