// lib/api's kind table against everything that lists the kinds without reading C++: the chart's
// kinds.yaml, its CRDs, its rendered ClusterRole and webhook rules, values.schema.json's
// `workloads` pattern, tools/register-webhooks.sh and docs/api.md's table. A kind added to (or
// removed from) one side only fails here, naming what lacks it (docs/adding-a-kind.md).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kind_table_text.h"
#include "kubedl/api/json.h"
#include "kubedl/api/kind.h"
#include "services/webhook/webhook_routes.h"
#include "yaml-cpp/yaml.h"

namespace kubedl {
namespace {

namespace fs = std::filesystem;

const fs::path kRepo = KUBEDL_SOURCE_DIR;
const fs::path kChart = kRepo / "charts" / "kubedl";

std::string Str(std::string_view s) { return std::string(s); }

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// Runs `command` with sh; its stdout, and its exit status in `status`.
std::string RunShell(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return out;
  }
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  int raw = pclose(pipe);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

bool Executable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

// $HELM, else the one tools/controlplane/build.sh builds, else helm on PATH; empty: none.
std::string FindHelm() {
  if (const char* helm = std::getenv("HELM"); helm != nullptr && Executable(helm)) return helm;
  std::map<std::string, std::string> versions;
  std::ifstream env(kRepo / "tools" / "controlplane" / "versions.env");
  for (std::string line; std::getline(env, line);) {
    if (size_t eq = line.find('='); eq != std::string::npos && line[0] != '#') {
      versions[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  std::string cache;
  if (const char* c = std::getenv("KUBEDL_CACHE"); c != nullptr && *c != '\0') {
    cache = c;
  } else if (const char* home = std::getenv("HOME"); home != nullptr) {
    cache = std::string(home) + "/.cache/kubedl";
  }
  std::string built = cache + "/bin/helm-" + versions["HELM_VERSION"] + "-k8s" +
                      versions["K8S_VERSION"] + "/helm";
  if (Executable(built)) return built;
  int status = 0;
  std::string on_path = RunShell("command -v helm 2>/dev/null", &status);
  while (!on_path.empty() && on_path.back() == '\n') on_path.pop_back();
  return status == 0 && Executable(on_path) ? on_path : "";
}

#define REQUIRE_HELM(helm)                                                                   \
  const std::string helm = FindHelm();                                                       \
  if (helm.empty()) {                                                                        \
    GTEST_SKIP() << "helm not found: set HELM, or build it with tools/controlplane/build.sh " \
                    "(make controlplane; make test does)";                                   \
  }

// The objects `helm template` renders from the chart with its default values.
std::vector<YAML::Node> RenderChart(const std::string& helm) {
  int status = 0;
  std::string out = RunShell(Quoted(helm) + " template kinds-test " + Quoted(kChart.string()) +
                            " --namespace kinds-test 2>&1",
                        &status);
  EXPECT_EQ(status, 0) << "helm template failed:\n" << out;
  std::vector<YAML::Node> objects;
  for (const YAML::Node& doc : YAML::LoadAll(out)) {
    if (doc.IsMap()) objects.push_back(doc);
  }
  return objects;
}

std::vector<const api::KindDescriptor*> TableKinds() {
  std::vector<const api::KindDescriptor*> kinds;
  for (const api::KindDescriptor& k : api::AllKinds()) kinds.push_back(&k);
  return kinds;
}

const api::KindDescriptor* TableKindOf(const std::string& group, const std::string& plural) {
  for (const api::KindDescriptor& k : api::AllKinds()) {
    if (k.group == group && k.plural == plural) return &k;
  }
  return nullptr;
}

// --- the table itself --------------------------------------------------------------------------

TEST(KindTable, EveryKindIsFoundByItsEnumApiVersionAndName) {
  ASSERT_FALSE(api::AllKinds().empty());
  for (const api::KindDescriptor& k : api::AllKinds()) {
    SCOPED_TRACE(Str(k.name));
    EXPECT_EQ(&api::Describe(k.kind), &k) << "the table is not in JobKind order";
    EXPECT_EQ(api::FindKind(k.api_version, k.name), &k);
    EXPECT_EQ(api::FindKindByName(Lower(Str(k.name))), &k);
    EXPECT_EQ(k.api_version, Str(k.group) + "/" + Str(k.version));
    EXPECT_NE(k.hooks, nullptr) << "a kind's hooks: lib/api/src/kinds/<kind>.cc";
    EXPECT_FALSE(k.replica_types.empty());
    // A kind without a framework container name (MPI: mainContainer, else the first) accepts
    // no name either.
    ASSERT_EQ(k.accepted_container_names.empty(), k.container_name.empty());
    if (!k.container_name.empty()) {
      EXPECT_EQ(k.accepted_container_names.front(), k.container_name);
    }
  }
}

TEST(KindTable, NamesPluralsAndReplicaKeysAreUnique) {
  std::set<std::string> names, plurals, keys;
  for (const api::KindDescriptor& k : api::AllKinds()) {
    EXPECT_TRUE(names.insert(Lower(Str(k.name))).second) << k.name;
    EXPECT_TRUE(plurals.insert(Str(k.plural) + "." + Str(k.group)).second) << k.plural;
    EXPECT_TRUE(keys.insert(Str(k.replica_specs_key)).second) << k.replica_specs_key;
  }
}

// --- the chart ---------------------------------------------------------------------------------

struct ChartKind {
  std::string kind, group, version, plural;
};

std::vector<ChartKind> ChartKindList() {
  std::vector<ChartKind> out;
  YAML::Node root = YAML::LoadFile((kChart / "kinds.yaml").string());
  for (const YAML::Node& k : root["kinds"]) {
    out.push_back({k["kind"].as<std::string>(""), k["group"].as<std::string>(""),
                   k["version"].as<std::string>(""), k["plural"].as<std::string>("")});
  }
  return out;
}

TEST(ChartKinds, KindsYamlListsExactlyTheTablesKinds) {
  const std::vector<ChartKind> chart = ChartKindList();
  std::vector<std::string> chart_order, table_order;
  for (const api::KindDescriptor& k : api::AllKinds()) {
    table_order.emplace_back(k.name);
    auto it = std::find_if(chart.begin(), chart.end(),
                           [&](const ChartKind& c) { return c.kind == k.name; });
    if (it == chart.end()) {
      ADD_FAILURE() << k.name << " (lib/api's kind table) is missing from charts/kubedl/kinds.yaml";
      continue;
    }
    EXPECT_EQ(it->group, k.group) << k.name << " in charts/kubedl/kinds.yaml";
    EXPECT_EQ(it->version, k.version) << k.name << " in charts/kubedl/kinds.yaml";
    EXPECT_EQ(it->plural, k.plural) << k.name << " in charts/kubedl/kinds.yaml";
  }
  for (const ChartKind& c : chart) {
    chart_order.push_back(c.kind);
    EXPECT_NE(api::FindKindByName(c.kind), nullptr)
        << "charts/kubedl/kinds.yaml lists " << c.kind << ", which lib/api's kind table lacks";
  }
  EXPECT_EQ(chart_order, table_order) << "charts/kubedl/kinds.yaml is not in the table's order";
  // One flow mapping a line, as tools/register-webhooks.sh reads it.
  const std::string text = ReadFile(kChart / "kinds.yaml");
  const size_t list = text.find("\nkinds:\n");
  ASSERT_NE(list, std::string::npos);
  EXPECT_EQ(text.substr(list + 1), kinds::KindsChartList())
      << "regenerate the list with `kubedl-kinds --format=chart`";
}

// A CRD in charts/kubedl/crds/ per kind: group, plural, Kind, a served version, and the replica
// map under spec in that version's schema. No CRD of a kind the table lacks.
TEST(ChartKinds, EveryKindHasItsCrdAndEveryCrdItsKind) {
  std::map<const api::KindDescriptor*, fs::path> found;
  for (const auto& entry : fs::directory_iterator(kChart / "crds")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().filename().string());
    YAML::Node crd = YAML::LoadFile(entry.path().string());
    ASSERT_EQ(crd["kind"].as<std::string>(""), "CustomResourceDefinition");
    const std::string group = crd["spec"]["group"].as<std::string>("");
    const std::string plural = crd["spec"]["names"]["plural"].as<std::string>("");
    const api::KindDescriptor* k = TableKindOf(group, plural);
    if (k == nullptr) {
      ADD_FAILURE() << "CRD " << plural << "." << group << " is of no kind of lib/api's table";
      continue;
    }
    found[k] = entry.path();
    EXPECT_EQ(crd["metadata"]["name"].as<std::string>(""), plural + "." + group);
    EXPECT_EQ(crd["spec"]["names"]["kind"].as<std::string>(""), k->name);
    bool served = false;
    for (const YAML::Node& v : crd["spec"]["versions"]) {
      if (v["name"].as<std::string>("") != k->version) continue;
      served = v["served"].as<bool>(false);
      YAML::Node spec = v["schema"]["openAPIV3Schema"]["properties"]["spec"];
      EXPECT_TRUE(spec["properties"][Str(k->replica_specs_key)].IsMap())
          << "the CRD's schema lacks spec." << k->replica_specs_key;
    }
    EXPECT_TRUE(served) << "the CRD does not serve " << k->version;
  }
  for (const api::KindDescriptor* k : TableKinds()) {
    EXPECT_TRUE(found.count(k)) << k->name << " (lib/api's kind table) has no CRD in "
                                << "charts/kubedl/crds/ (" << k->plural << "." << k->group << ")";
  }
}

// reconciler.workloads: "^(auto|\*|-?(?i:tfjob|...))$".
TEST(ChartKinds, WorkloadsValueSchemaNamesExactlyTheTablesKinds) {
  api::Json schema = api::Json::parse(ReadFile(kChart / "values.schema.json"));
  const std::string pattern =
      schema["properties"]["reconciler"]["properties"]["workloads"]["items"]["pattern"];
  std::smatch m;
  ASSERT_TRUE(std::regex_search(pattern, m, std::regex(R"(\(\?i:([a-z|]+)\))"))) << pattern;
  std::set<std::string> in_schema, in_table;
  std::stringstream names(m[1].str());
  for (std::string name; std::getline(names, name, '|');) in_schema.insert(name);
  for (const api::KindDescriptor& k : api::AllKinds()) in_table.insert(Lower(Str(k.name)));
  EXPECT_EQ(in_schema, in_table) << "values.schema.json reconciler.workloads pattern: " << pattern;
}

TEST(ChartRender, ReconcilerClusterRoleCoversEveryKindAndItsStatusOnly) {
  REQUIRE_HELM(helm);
  std::map<std::string, std::set<std::string>> verbs;  // "group/resource" -> verbs
  bool role = false;
  for (const YAML::Node& o : RenderChart(helm)) {
    if (o["kind"].as<std::string>("") != "ClusterRole" ||
        o["metadata"]["name"].as<std::string>("") != "kinds-test-kubedl-reconciler") {
      continue;
    }
    role = true;
    for (const YAML::Node& rule : o["rules"]) {
      for (const YAML::Node& group : rule["apiGroups"]) {
        for (const YAML::Node& resource : rule["resources"]) {
          for (const YAML::Node& verb : rule["verbs"]) {
            verbs[group.as<std::string>() + "/" + resource.as<std::string>()].insert(
                verb.as<std::string>());
          }
        }
      }
    }
  }
  ASSERT_TRUE(role) << "no ClusterRole kinds-test-kubedl-reconciler rendered";
  std::set<std::string> groups;
  for (const api::KindDescriptor& k : api::AllKinds()) {
    groups.insert(Str(k.group));
    const std::string resource = Str(k.group) + "/" + Str(k.plural);
    EXPECT_THAT(verbs[resource], testing::IsSupersetOf({"get", "list", "watch", "update", "patch",
                                                        "delete"}))
        << k.name << ": the reconciler's ClusterRole rules on " << resource;
    EXPECT_THAT(verbs[resource + "/status"], testing::IsSupersetOf({"get", "update", "patch"}))
        << k.name << ": the reconciler's ClusterRole rules on " << resource << "/status";
  }
  for (const auto& [resource, granted] : verbs) {
    const std::string group = resource.substr(0, resource.find('/'));
    std::string plural = resource.substr(group.size() + 1);
    if (!groups.count(group) || granted.empty()) continue;
    if (plural.ends_with("/status")) plural.resize(plural.size() - 7);
    EXPECT_NE(TableKindOf(group, plural), nullptr)
        << "the reconciler's ClusterRole names " << resource << ", of no kind of lib/api's table";
  }
}

// One webhook per kind in each configuration, its rules on the kind's group, version and plural,
// pointing at the path kubedl-webhook serves for it (WebhookPath).
void ExpectOneWebhookPerKind(const std::vector<const YAML::Node*>& webhooks,
                             webhook::WebhookType type, const std::string& what,
                             const std::function<std::string(const YAML::Node&)>& path_of) {
  std::map<const api::KindDescriptor*, int> count;
  for (const YAML::Node* w : webhooks) {
    const YAML::Node rule = (*w)["rules"][0];
    const std::string group = rule["apiGroups"][0].as<std::string>("");
    const std::string plural = rule["resources"][0].as<std::string>("");
    const api::KindDescriptor* k = TableKindOf(group, plural);
    if (k == nullptr) {
      ADD_FAILURE() << what << " has a webhook for " << plural << "." << group
                    << ", of no kind of lib/api's table";
      continue;
    }
    ++count[k];
    EXPECT_EQ(rule["apiVersions"][0].as<std::string>(""), k->version) << what << " " << k->name;
    EXPECT_EQ(path_of(*w), webhook::WebhookPath(type, *k)) << what << " " << k->name;
  }
  for (const api::KindDescriptor* k : TableKinds()) {
    EXPECT_EQ(count[k], 1) << k->name << " (lib/api's kind table): " << count[k]
                           << " webhooks in " << what;
  }
}

TEST(ChartRender, WebhookConfigurationsHaveOneWebhookPerKind) {
  REQUIRE_HELM(helm);
  const std::vector<YAML::Node> objects = RenderChart(helm);
  for (auto [config, type] :
       {std::pair{"MutatingWebhookConfiguration", webhook::WebhookType::kMutate},
        std::pair{"ValidatingWebhookConfiguration", webhook::WebhookType::kValidate}}) {
    std::vector<const YAML::Node*> webhooks;
    std::vector<YAML::Node> items;
    for (const YAML::Node& o : objects) {
      if (o["kind"].as<std::string>("") != config) continue;
      for (const YAML::Node& w : o["webhooks"]) items.push_back(w);
    }
    for (const YAML::Node& w : items) webhooks.push_back(&w);
    ASSERT_FALSE(webhooks.empty()) << "no " << config << " rendered";
    ExpectOneWebhookPerKind(webhooks, type, std::string("the chart's ") + config,
                            [](const YAML::Node& w) {
                              return w["clientConfig"]["service"]["path"].as<std::string>("");
                            });
  }
}

// --- tools/register-webhooks.sh ---------------------------------------------------------------

TEST(RegisterWebhooks, RegistersOneWebhookPerKindOfTheTable) {
  const fs::path dir = fs::temp_directory_path() / ("kinds-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path kubectl = dir / "kubectl", out = dir / "applied.yaml", ca = dir / "ca.crt";
  std::ofstream(kubectl) << "#!/bin/sh\n{ cat; echo ---; } >> " << Quoted(out.string()) << "\n";
  fs::permissions(kubectl, fs::perms::owner_all);
  std::ofstream(ca) << "not a certificate\n";
  int status = 0;
  std::string log = RunShell("KUBECTL=" + Quoted(kubectl.string()) + " bash " +
                            Quoted((kRepo / "tools" / "register-webhooks.sh").string()) +
                            " kinds-test https://127.0.0.1:9443 " + Quoted(ca.string()) + " 2>&1",
                        &status);
  ASSERT_EQ(status, 0) << log;
  const std::vector<YAML::Node> applied = YAML::LoadAll(ReadFile(out));
  fs::remove_all(dir);
  for (auto [config, type] :
       {std::pair{"MutatingWebhookConfiguration", webhook::WebhookType::kMutate},
        std::pair{"ValidatingWebhookConfiguration", webhook::WebhookType::kValidate}}) {
    std::vector<YAML::Node> items;
    for (const YAML::Node& o : applied) {
      if (o.IsMap() && o["kind"].as<std::string>("") == config) {
        for (const YAML::Node& w : o["webhooks"]) items.push_back(w);
      }
    }
    std::vector<const YAML::Node*> webhooks;
    for (const YAML::Node& w : items) webhooks.push_back(&w);
    ASSERT_FALSE(webhooks.empty()) << "register-webhooks.sh applied no " << config;
    ExpectOneWebhookPerKind(webhooks, type, std::string("register-webhooks.sh's ") + config,
                            [](const YAML::Node& w) {
                              std::string url = w["clientConfig"]["url"].as<std::string>("");
                              const std::string base = "https://127.0.0.1:9443";
                              return url.starts_with(base) ? url.substr(base.size()) : url;
                            });
  }
}

// --- docs --------------------------------------------------------------------------------------

TEST(KindDocs, ApiMdKindsTableIsTheTable) {
  const std::string doc = ReadFile(kRepo / "docs" / "api.md");
  EXPECT_NE(doc.find("\n" + kinds::KindsMarkdown() + "\n"), std::string::npos)
      << "docs/api.md's kinds table differs from lib/api's table; regenerate it with "
         "`kubedl-kinds --format=markdown`:\n"
      << kinds::KindsMarkdown();
}

}  // namespace
}  // namespace kubedl
