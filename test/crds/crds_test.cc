// Our CRDs (charts/kubedl/crds/) against training-operator v1.9.3's (manifests/base/crds/ of its
// Go module, fetched by training_operator_crds.sh): every field path their schema declares must
// be declared by ours too, or lie under a node of ours marked x-kubernetes-preserve-unknown-fields.
// A path ours lacks is a manifest valid there that the API server refuses here ("strict decoding
// error: unknown field") or silently prunes (SPEC section 1).
#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace kubedl {
namespace {

namespace fs = std::filesystem;

const fs::path kRepo = KUBEDL_SOURCE_DIR;

// The field paths one openAPIV3Schema declares. A path names a property by its key, the values of
// an additionalProperties map by `*` and the items of an array by `[]`:
// "spec.tfReplicaSpecs.*.template.spec.containers[].name". `open` holds the paths of nodes marked
// x-kubernetes-preserve-unknown-fields (or additionalProperties: true), below which any field is
// accepted.
struct FieldPaths {
  std::set<std::string> declared;
  std::set<std::string> open;
};

std::string Child(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// node[key], or a null node when absent (a const yaml-cpp node answers an invalid one, which
// throws on use).
YAML::Node Get(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value ? value : YAML::Node();
}

void Walk(const YAML::Node& node, const std::string& path, FieldPaths* out) {
  if (!node.IsMap()) return;
  if (!path.empty()) out->declared.insert(path);
  if (Get(node, "x-kubernetes-preserve-unknown-fields").as<bool>(false)) out->open.insert(path);
  for (const auto& property : Get(node, "properties")) {
    Walk(property.second, Child(path, property.first.as<std::string>()), out);
  }
  Walk(Get(node, "items"), path + "[]", out);
  const YAML::Node additional = Get(node, "additionalProperties");
  if (additional.IsMap()) Walk(additional, Child(path, "*"), out);
  if (additional.IsScalar() && additional.as<bool>(false)) {
    out->declared.insert(Child(path, "*"));
    out->open.insert(Child(path, "*"));
  }
  for (const char* combinator : {"allOf", "anyOf", "oneOf"}) {
    for (const YAML::Node& branch : Get(node, combinator)) Walk(branch, path, out);
  }
}

FieldPaths PathsOf(const YAML::Node& schema) {
  FieldPaths out;
  Walk(schema, "", &out);
  return out;
}

// `path` itself, or a node above it, keeps unknown fields.
bool UnderOpen(const std::string& path, const std::set<std::string>& open) {
  for (const std::string& o : open) {
    if (o.empty() || path == o) return true;
    if (path.size() > o.size() && path.compare(0, o.size(), o) == 0 &&
        (path[o.size()] == '.' || path[o.size()] == '[')) {
      return true;
    }
  }
  return false;
}

// What `theirs` accepts and `ours` does not: each missing path once, at its shallowest, with how
// many missing paths lie below it ("spec.elasticPolicy.metrics (and 79 more below)").
std::vector<std::string> Missing(const FieldPaths& theirs, const FieldPaths& ours) {
  std::vector<std::string> missing;
  for (const std::string& p : theirs.declared) {
    const bool accepted = theirs.open.count(p) ? UnderOpen(p, ours.open)
                                               : ours.declared.count(p) || UnderOpen(p, ours.open);
    if (!accepted) missing.push_back(p);  // std::set order: a parent comes before its children
  }
  std::vector<std::string> report;
  std::string top;
  int below = 0;
  auto flush = [&] {
    if (top.empty()) return;
    std::string line = top;
    if (theirs.open.count(top)) line += " (keeps unknown fields there)";
    if (below > 0) line += " (and " + std::to_string(below) + " more below)";
    report.push_back(line);
  };
  for (const std::string& p : missing) {
    if (!top.empty() && UnderOpen(p, {top})) {
      ++below;
      continue;
    }
    flush();
    top = p;
    below = 0;
  }
  flush();
  return report;
}

// kind -> version name -> openAPIV3Schema, of every CRD in `dir`; kind -> file in `files`.
using Schemas = std::map<std::string, std::map<std::string, YAML::Node>>;

Schemas LoadCrds(const fs::path& dir, std::map<std::string, std::string>* files) {
  Schemas out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    YAML::Node crd = YAML::LoadFile(entry.path().string());
    if (crd["kind"].as<std::string>("") != "CustomResourceDefinition") continue;
    const std::string kind = crd["spec"]["names"]["kind"].as<std::string>("");
    (*files)[kind] = entry.path().filename().string();
    for (const YAML::Node& v : crd["spec"]["versions"]) {
      out[kind][v["name"].as<std::string>("")] = v["schema"]["openAPIV3Schema"];
    }
  }
  return out;
}

// Runs training_operator_crds.sh: the folder of their CRDs, or "" with the script's words in
// `error`.
std::string TrainingOperatorCrds(std::string* error) {
  const std::string command =
      "bash '" + (kRepo / "test" / "crds" / "training_operator_crds.sh").string() + "' 2>&1";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *error = "cannot run " + command;
    return "";
  }
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (status != 0) {
    *error = out;
    return "";
  }
  const size_t last = out.rfind('\n');
  return last == std::string::npos ? out : out.substr(last + 1);
}

TEST(Crds, EveryFieldOfTrainingOperatorV193CrdsIsAcceptedByOurs) {
  std::string error;
  const std::string dir = TrainingOperatorCrds(&error);
  ASSERT_FALSE(dir.empty())
      << "training-operator's CRDs (Go module github.com/kubeflow/training-operator, the version "
         "in tools/controlplane/versions.env) could not be had:\n"
      << error;
  std::map<std::string, std::string> their_files, our_files;
  const Schemas theirs = LoadCrds(dir, &their_files);
  const Schemas ours = LoadCrds(kRepo / "charts" / "kubedl" / "crds", &our_files);
  std::set<std::string> kinds;
  for (const auto& [kind, versions] : theirs) kinds.insert(kind);
  EXPECT_THAT(kinds, testing::IsSupersetOf({"TFJob", "PyTorchJob", "XGBoostJob", "MPIJob",
                                            "PaddleJob", "JAXJob"}))
      << "the CRDs found in " << dir;
  for (const auto& [kind, versions] : theirs) {
    auto our = ours.find(kind);
    if (our == ours.end()) {
      ADD_FAILURE() << kind << ": training-operator has a CRD (" << their_files[kind]
                    << "), charts/kubedl/crds/ has none";
      continue;
    }
    for (const auto& [version, schema] : versions) {
      auto our_schema = our->second.find(version);
      if (our_schema == our->second.end()) {
        ADD_FAILURE() << kind << ": charts/kubedl/crds/" << our_files[kind] << " has no version "
                      << version;
        continue;
      }
      const FieldPaths their_paths = PathsOf(schema);
      const std::vector<std::string> missing = Missing(their_paths, PathsOf(our_schema->second));
      EXPECT_GT(their_paths.declared.size(), 100u) << kind << " " << version << ": too few paths";
      if (missing.empty()) continue;
      std::ostringstream list;
      for (const std::string& m : missing) list << "\n  " << m;
      ADD_FAILURE() << kind << " " << version << ": charts/kubedl/crds/" << our_files[kind]
                    << " lacks " << missing.size() << " field path(s) of training-operator "
                    << "v1.9.3's " << their_files[kind] << ":" << list.str();
    }
  }
}

// The comparison itself, on small schemas: it reports what ours lacks, once at its top, and
// counts nothing under a node of ours that keeps unknown fields.
TEST(Crds, FieldPathComparisonReportsMissingPathsAndHonoursPreserveUnknownFields) {
  const YAML::Node theirs = YAML::Load(R"(
type: object
properties:
  spec:
    type: object
    properties:
      replicas: {type: integer}
      policy:
        type: object
        properties:
          metrics: {type: array, items: {type: object, properties: {type: {type: string}}}}
      template:
        type: object
        properties:
          containers: {type: array, items: {type: object, properties: {name: {type: string}}}}
      labels: {type: object, additionalProperties: {type: string}}
      free: {type: object, x-kubernetes-preserve-unknown-fields: true}
)");
  const YAML::Node ours = YAML::Load(R"(
type: object
properties:
  spec:
    type: object
    properties:
      replicas: {type: integer}
      policy: {type: object}
      template: {type: object, x-kubernetes-preserve-unknown-fields: true}
      free: {type: object}
)");
  const FieldPaths their_paths = PathsOf(theirs);
  EXPECT_THAT(their_paths.declared,
              testing::IsSupersetOf({"spec.template.containers[].name", "spec.labels.*",
                                     "spec.policy.metrics[].type"}));
  EXPECT_THAT(Missing(their_paths, PathsOf(ours)),
              testing::ElementsAre("spec.free (keeps unknown fields there)",
                                   "spec.labels (and 1 more below)",
                                   "spec.policy.metrics (and 2 more below)"));
  EXPECT_THAT(Missing(their_paths, their_paths), testing::IsEmpty());
}

}  // namespace
}  // namespace kubedl
