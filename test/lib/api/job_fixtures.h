#pragma once
// Small valid jobs of each kind, for table-driven tests.
#include <string>

#include "kubedl/api/job.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/api/json.h"

namespace kubedl::api::testing {

inline Json Template(const std::string& container, const std::string& image = "busybox:1.36") {
  return Json::parse(R"({"spec":{"containers":[{"name":")" + container + R"(","image":")" +
                     image + R"("}]}})");
}

// A job of `kind` with one replica of each listed type (lower case as a user might write).
inline Json MinimalJob(JobKind kind) {
  const KindDescriptor& d = Describe(kind);
  Json job = Json::object();
  job["apiVersion"] = d.api_version;
  job["kind"] = d.name;
  job["metadata"] = {{"name", "demo"}, {"namespace", "default"}};
  Json map = Json::object();
  switch (kind) {
    case JobKind::kTFJob:
      map["Worker"] = {{"replicas", 2}, {"template", Template("tensorflow")}};
      map["PS"] = {{"replicas", 1}, {"template", Template("tensorflow")}};
      break;
    case JobKind::kPyTorchJob:
    case JobKind::kXGBoostJob:
      map["Master"] = {{"replicas", 1}, {"template", Template(std::string(d.container_name))}};
      map["Worker"] = {{"replicas", 2}, {"template", Template(std::string(d.container_name))}};
      break;
    case JobKind::kXDLJob:
      map["PS"] = {{"replicas", 1}, {"template", Template("xdl")}};
      map["Worker"] = {{"replicas", 2}, {"template", Template("xdl")}};
      break;
    case JobKind::kMPIJob:
      map["Launcher"] = {{"replicas", 1}, {"template", Template("launcher")}};
      map["Worker"] = {{"replicas", 2}, {"template", Template("worker")}};
      break;
    case JobKind::kPaddleJob:
      map["Master"] = {{"replicas", 1}, {"template", Template("paddle")}};
      map["Worker"] = {{"replicas", 2}, {"template", Template("paddle")}};
      break;
    case JobKind::kJAXJob:
      map["Worker"] = {{"replicas", 2}, {"template", Template("jax")}};
      break;
  }
  job["spec"] = {{std::string(d.replica_specs_key), map}};
  return job;
}

inline Job MustParse(const Json& object) {
  auto job = ParseJob(object);
  if (!job.ok()) throw std::runtime_error(std::string(job.status().message()));
  return *std::move(job);
}

}  // namespace kubedl::api::testing
