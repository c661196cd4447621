#pragma once
// Jobs for the reconciler's unit tests, parsed and defaulted like the reconciler does, and the
// checks of env and labels the tests share.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler::testing {

inline api::Job ParsedJob(const std::string& json) {
  auto job = api::ParseJob(api::Json::parse(json));
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return {};
  api::DefaultJob(*job);
  return *job;
}

// A job of `kind` as the framework tests write it, in namespace "team" (TFJob "mnist",
// PyTorchJob "pt", XGBoostJob "xgb", XDLJob "ctr" of uid "u-123"): `replicas` is its replica
// map and `extra_spec` spec fields written before it (each with its trailing comma).
inline api::Job KindJob(api::JobKind kind, const std::string& replicas,
                        const std::string& extra_spec = "") {
  const api::KindDescriptor& d = api::Describe(kind);
  std::string name = "mnist", uid = "u1";
  if (kind == api::JobKind::kPyTorchJob) name = "pt";
  if (kind == api::JobKind::kXGBoostJob) name = "xgb";
  if (kind == api::JobKind::kXDLJob) name = "ctr", uid = "u-123";
  return ParsedJob(R"({"apiVersion":")" + std::string(d.api_version) + R"(","kind":")" +
                   std::string(d.name) + R"(","metadata":{"name":")" + name +
                   R"(","namespace":"team","uid":")" + uid + R"("},"spec":{)" + extra_spec + "\"" +
                   std::string(d.replica_specs_key) + "\":" + replicas + "}}");
}

// A replica spec whose template has one container named `container`.
inline std::string Replica(int replicas, const std::string& container,
                           const std::string& extra_container_fields = "") {
  return "{\"replicas\": " + std::to_string(replicas) +
         ", \"template\": {\"spec\": {\"containers\": [{\"name\": \"" + container +
         "\", \"image\": \"img\"" + extra_container_fields + "}]}}}";
}

// A replica map of such specs, in the order given: ReplicaMap("tensorflow", {{"PS", 1},
// {"Worker", 2}}).
inline std::string ReplicaMap(const std::string& container,
                              const std::vector<std::pair<std::string, int>>& counts) {
  std::string map;
  for (const auto& [type, replicas] : counts) {
    map += (map.empty() ? "{\"" : ",\"") + type + "\":" + Replica(replicas, container);
  }
  return map + "}";
}

// The pod the core would hand to a framework: the template with a name.
inline api::Json PodFor(const api::Job& job, const std::string& type) {
  const api::Replica* replica = job.FindReplica(type);
  api::Json pod = api::Json::object();
  pod["metadata"] = {{"name", "p"}};
  pod["spec"] = replica->spec.template_spec["spec"];
  return pod;
}

inline std::string Env(const api::Json& container, const std::string& name) {
  for (const auto& e : container.value("env", api::Json::array())) {
    if (e.value("name", "") == name) return e.value("value", "");
  }
  return "<unset>";
}

using Expected = std::vector<std::pair<std::string, std::string>>;

// Expects each variable of `expected` to have its value in `container` ("<unset>": absent).
inline void ExpectEnv(const api::Json& container, const Expected& expected) {
  for (const auto& [name, value] : expected) {
    EXPECT_EQ(Env(container, name), value) << name << " in " << container.value("name", "");
  }
}

// Expects each label of `expected` on `labels` (a label map, or an object's metadata.labels).
inline void ExpectLabels(const std::map<std::string, std::string>& labels,
                         const Expected& expected) {
  for (const auto& [key, value] : expected) {
    auto it = labels.find(key);
    EXPECT_EQ(it == labels.end() ? "<absent>" : it->second, value) << key;
  }
}
template <class JsonObject>
void ExpectLabels(const JsonObject& labels, const Expected& expected) {
  ExpectLabels(labels.template get<std::map<std::string, std::string>>(), expected);
}

}  // namespace kubedl::reconciler::testing
