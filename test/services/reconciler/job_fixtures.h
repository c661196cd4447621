#pragma once
// Jobs for the reconciler's unit tests, parsed and defaulted like the reconciler does.
#include <string>

#include "gtest/gtest.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"

namespace kubedl::reconciler::testing {

inline api::Job ParsedJob(const std::string& json) {
  auto job = api::ParseJob(api::Json::parse(json));
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return {};
  api::DefaultJob(*job);
  return *job;
}

// A replica spec whose template has one container named `container`.
inline std::string Replica(int replicas, const std::string& container,
                           const std::string& extra_container_fields = "") {
  return "{\"replicas\": " + std::to_string(replicas) +
         ", \"template\": {\"spec\": {\"containers\": [{\"name\": \"" + container +
         "\", \"image\": \"img\"" + extra_container_fields + "}]}}}";
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

}  // namespace kubedl::reconciler::testing
