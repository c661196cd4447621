#include "odd_job_generator.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <functional>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kubedl::reconciler::testing {

uint64_t ByteChoices::Below(uint64_t n) {
  if (n <= 1) return 0;
  uint64_t value = 0;
  for (uint64_t range = n - 1; range > 0; range >>= 8) {
    value = (value << 8) | (pos_ < size_ ? data_[pos_++] : 0);
  }
  return value % n;
}

const char* VerdictName(OddJob::Verdict verdict) {
  switch (verdict) {
    case OddJob::Verdict::kRuns: return "runs";
    case OddJob::Verdict::kRefused: return "refused";
    case OddJob::Verdict::kEither: return "either";
  }
  return "?";
}

std::string OddJob::name() const {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto name = meta->find("name");
  return name != meta->end() && name->is_string() ? name->get<std::string>() : "";
}

std::string OddJob::Describe() const {
  return absl::StrCat(std::string(api::Describe(kind).name), " \"", name(), "\" (",
                      VerdictName(verdict), expected_pods >= 0 ? absl::StrCat(", ", expected_pods,
                                                                              " pods")
                                                               : "",
                      within_crd_schema ? "" : ", beyond the CRD schema",
                      "): ", oddities.empty() ? "no oddity" : absl::StrJoin(oddities, "; "));
}

namespace {

using api::Json;
using Verdict = OddJob::Verdict;

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

// A DNS-1035 label of exactly `length` characters.
std::string LabelOfLength(size_t length, char fill = 'a') {
  if (length == 0) return "";
  std::string s = "j";
  while (s.size() < length) s.push_back(s.size() % 7 == 3 && s.size() + 1 < length ? '-' : fill);
  return s;
}

// The canonical type for a map key of `kind` (case-insensitive), or empty.
std::string Canonical(const api::KindDescriptor& kind, const std::string& key) {
  return std::string(api::CanonicalReplicaType(kind, key));
}

class Generator {
 public:
  Generator(ChoiceSource& choices, const GeneratorOptions& options)
      : c_(choices), options_(options) {}

  OddJob Run() {
    job_.kind = api::AllKinds()[c_.Below(api::AllKinds().size())].kind;
    kind_ = &api::Describe(job_.kind);
    BuildBase();
    // Most jobs get one oddity, some a few; one in five stays plain (and must run). Most
    // oddities make a job invalid, so this keeps about a third of the jobs valid.
    int count = 0;
    if (!c_.OneIn(5)) {
      count = 1;
      while (count < options_.max_oddities && c_.OneIn(3)) ++count;
    }
    std::vector<int> picks;
    for (int i = 0; i < count; ++i) picks.push_back(static_cast<int>(c_.Below(kMutationCount)));
    // Changes to the replica map's keys come last, so the others find the keys they expect.
    std::stable_sort(picks.begin(), picks.end(),
                     [](int a, int b) { return IsMapMutation(a) < IsMapMutation(b); });
    for (int pick : picks) Mutate(pick);
    Finish();
    return std::move(job_);
  }

 private:
  // --- The plain job ------------------------------------------------------------------------

  Json Container(const std::string& name, bool with_port) {
    Json c = {{"name", name}, {"image", c_.OneIn(3) ? "busybox" : "busybox:1.36"}};
    if (with_port && !kind_->port_name.empty()) {
      c["ports"] = Json::array({{{"name", std::string(kind_->port_name)},
                                 {"containerPort", kind_->port}}});
    }
    if (c_.OneIn(3)) c["args"] = Json::array({"--epochs", "1"});
    if (c_.OneIn(4)) c["env"] = Json::array({{{"name", "MODE"}, {"value", "train"}}});
    return c;
  }

  Json Template() {
    Json containers = Json::array();
    if (c_.OneIn(5)) containers.push_back(Container("sidecar", false));
    containers.push_back(Container(FrameworkContainerName(), !c_.OneIn(3)));
    if (c_.OneIn(6)) std::swap(containers[0], containers[containers.size() - 1]);
    Json t = {{"spec", {{"containers", std::move(containers)}}}};
    if (c_.OneIn(3)) t["metadata"] = {{"labels", {{"app", "train"}}}};
    if (c_.OneIn(5)) t["spec"]["nodeSelector"] = {{"pool", "gpu"}};
    return t;
  }

  // Mostly 1 to 3; now and then a few dozen (slow start has batches to send).
  int64_t SmallCount() {
    if (c_.OneIn(60)) return c_.Between(10, 40);
    if (c_.OneIn(4)) return c_.Between(4, 8);
    return c_.Between(1, 3);
  }

  void AddReplica(const std::string& type, int64_t replicas) {
    Json r = {{"template", Template()}};
    // A missing `replicas` defaults to 1.
    if (replicas != 1 || !c_.OneIn(6)) r["replicas"] = replicas;
    if (!c_.OneIn(3)) r["restartPolicy"] = c_.Pick<std::string>({"Never", "OnFailure", "Always", "ExitCode"});
    (*Map())[type] = std::move(r);
  }

  void BuildBase() {
    const std::string name = c_.OneIn(4) ? absl::StrCat("job-", c_.Below(1000))
                                         : c_.Pick<std::string>({"job", "mnist", "train-7", "a"});
    job_.object = {{"apiVersion", std::string(kind_->api_version)},
                   {"kind", std::string(kind_->name)},
                   {"metadata",
                    {{"name", name},
                     {"namespace", options_.namespace_},
                     {"uid", absl::StrCat("uid-", name)},
                     {"resourceVersion", "1"},
                     {"creationTimestamp", "2027-01-15T08:00:00Z"}}},
                   {"spec", {{std::string(kind_->replica_specs_key), Json::object()}}}};
    switch (job_.kind) {
      case api::JobKind::kTFJob: {
        const int shape = static_cast<int>(c_.Below(6));
        if (shape == 1 || shape == 3) AddReplica(shape == 1 ? "Chief" : "Master", 1);
        if (shape >= 2) AddReplica("PS", c_.Between(1, 2));
        if (shape != 1 || !c_.OneIn(2)) AddReplica("Worker", SmallCount());
        if (shape == 5 || c_.OneIn(8)) AddReplica("Evaluator", 1);
        break;
      }
      case api::JobKind::kPyTorchJob: {
        const int shape = static_cast<int>(c_.Below(3));
        if (shape != 1) AddReplica("Master", 1);
        if (shape != 2) AddReplica("Worker", SmallCount());
        break;
      }
      case api::JobKind::kXGBoostJob:
        AddReplica("Master", 1);
        if (!c_.OneIn(3)) AddReplica("Worker", SmallCount());
        break;
      case api::JobKind::kMPIJob:
        AddReplica("Launcher", 1);
        if (!c_.OneIn(4)) AddReplica("Worker", SmallCount());
        break;
      case api::JobKind::kPaddleJob:
        if (c_.OneIn(2)) AddReplica("Master", 1);
        AddReplica("Worker", SmallCount());
        break;
      case api::JobKind::kJAXJob:
        AddReplica("Worker", SmallCount());
        break;
      case api::JobKind::kXDLJob: {
        const int shape = static_cast<int>(c_.Below(4));
        if (shape >= 1) AddReplica("PS", c_.Between(1, 2));
        if (shape == 2) AddReplica("Scheduler", 1);
        AddReplica("Worker", SmallCount());
        if (shape == 3) AddReplica("ExtendRole", 1);
        break;
      }
    }
  }

  // The kind's framework container; MPI names none and takes mainContainer, else the first.
  std::string FrameworkContainerName() const {
    return kind_->container_name.empty() ? "mpi" : std::string(kind_->container_name);
  }

  // --- Bookkeeping --------------------------------------------------------------------------

  void Note(std::string what, Verdict v, bool within_crd = true) {
    job_.oddities.push_back(std::move(what));
    if (v == Verdict::kRefused) refused_ = true;
    if (v == Verdict::kEither) either_ = true;
    if (!within_crd) job_.within_crd_schema = false;
  }
  // Claims a slot (one aspect of the job) for one mutation, so a later one cannot undo it.
  bool Claim(const std::string& slot) { return touched_.insert(slot).second; }

  // The replica map, looked up afresh each time: inserting into an ordered_json object moves
  // its members, so a pointer kept across edits would dangle.
  Json* Map() {
    auto spec = job_.object.find("spec");
    if (spec == job_.object.end() || !spec->is_object()) return nullptr;
    auto map = spec->find(std::string(kind_->replica_specs_key));
    return map == spec->end() || !map->is_object() ? nullptr : &*map;
  }
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    if (Json* map = Map()) {
      for (auto it = map->begin(); it != map->end(); ++it) keys.push_back(it.key());
    }
    return keys;
  }
  // A replica entry to mutate: its key, or empty when the map has none left.
  std::string PickKey() {
    std::vector<std::string> keys = Keys();
    if (keys.empty()) return "";
    return keys[c_.Below(keys.size())];
  }
  Json& Entry(const std::string& key) { return (*Map())[key]; }
  Json& Tmpl(const std::string& key) { return Entry(key)["template"]; }
  // The framework container of a template (the first one named like the kind), or null.
  Json* MainContainer(const std::string& key) {
    Json& t = Tmpl(key);
    if (!t.is_object() || !t.contains("spec") || !t["spec"].is_object()) return nullptr;
    Json& cs = t["spec"]["containers"];
    if (!cs.is_array()) return nullptr;
    for (Json& cont : cs) {
      if (cont.is_object() && cont.value("name", "") == FrameworkContainerName()) return &cont;
    }
    return nullptr;
  }

  // What a replica count does for `canonical` type of this kind (SPEC §3).
  Verdict ReplicasVerdict(const std::string& canonical, int64_t v) const {
    if (v < 0 || v > 5000) return Verdict::kRefused;
    const bool master = canonical == "Master" || canonical == "Chief";
    switch (job_.kind) {
      case api::JobKind::kTFJob:
        if (master && v > 1) return Verdict::kRefused;
        break;
      case api::JobKind::kPyTorchJob:
        if (canonical == "Master" && v != 1) return Verdict::kRefused;
        if (canonical == "Worker" && v < 1) return Verdict::kRefused;
        break;
      case api::JobKind::kXGBoostJob:
        if (canonical == "Master" && v != 1) return Verdict::kRefused;
        break;
      case api::JobKind::kXDLJob:
        break;
      case api::JobKind::kMPIJob:
        if (canonical == "Launcher" && v != 1) return Verdict::kRefused;
        break;
      case api::JobKind::kPaddleJob:
        // Refused only without a Master, which an odd key may or may not spell.
        if (canonical == "Worker" && v < 1) return Verdict::kEither;
        break;
      case api::JobKind::kJAXJob:
        if (canonical == "Worker" && v < 1) return Verdict::kRefused;
        break;
    }
    return Verdict::kRuns;
  }

  // --- Oddities -----------------------------------------------------------------------------

  // 0-25 and 58-59 the templates, 50-57 the replica map.
  static constexpr int kMutationCount = 60;
  static bool IsMapMutation(int pick) { return pick >= 50 && pick < 58; }

  void Mutate(int pick) {
    if (IsMapMutation(pick)) return MutateMap(pick);
    if (pick < 26 || pick >= 58) return MutateTemplate(pick);
    if (pick < 32) return MutateReplicaSpec(pick);
    if (pick < 34) return MutateName(pick);
    if (pick < 42) return MutateRunPolicy(pick);
    if (pick < 45) return MutateAnnotations(pick);
    if (pick < 48) return MutateStatus(pick);
    return MutateKindSpecific(pick);
  }

  void MutateTemplate(int pick) {
    const std::string key = PickKey();
    if (key.empty() || !Claim("template:" + key)) return;
    const std::string at = key + " ";
    Json& t = Tmpl(key);
    if (!t.is_object()) return;
    Json* main = MainContainer(key);
    auto port = [&]() -> Json* {
      if (main == nullptr) return nullptr;
      Json& ports = (*main)["ports"];
      if (!ports.is_array() || ports.empty()) {
        ports = Json::array({{{"name", std::string(kind_->port_name)},
                              {"containerPort", kind_->port}}});
      }
      return &ports[0];
    };
    // Sets `field` of `target` (the main container, its first port) when there is one.
    auto set = [&](Json* target, const char* field, Json value, const std::string& what,
                   Verdict verdict) {
      if (target == nullptr) return;
      (*target)[field] = std::move(value);
      Note(at + what, verdict);
    };
    switch (pick) {
      case 0:
        set(port(), "containerPort", std::to_string(kind_->port),
            "containerPort as a string", Verdict::kRefused);
        break;
      case 1:
        set(port(), "containerPort", kind_->port + 0.5,
            "containerPort as a fraction", Verdict::kRefused);
        break;
      case 2:
        set(port(), "containerPort", {{"value", kind_->port}},
            "containerPort as an object", Verdict::kRefused);
        break;
      case 3:
        set(port(), "containerPort", nullptr, "containerPort null", Verdict::kEither);
        break;
      case 4:
        set(port(), "containerPort", static_cast<double>(kind_->port),
            "containerPort as a whole float", Verdict::kEither);
        break;
      case 5:
        set(main, "env", {{"MODE", "train"}, {"N", 3}}, "env as a map", Verdict::kRefused);
        break;
      case 6:
        set(main, "env", "MODE=train", "env as a string", Verdict::kRefused);
        break;
      case 7:
        set(main, "args", Json::array({"--epochs", 3, true}),
            "args with a number", Verdict::kRefused);
        break;
      case 8:
        if (t.is_object() && t["spec"].is_object()) {
          t["spec"]["nodeSelector"] = Json::array({"pool=gpu"});
          Note(at + "nodeSelector as a list", Verdict::kRefused);
        }
        break;
      case 9:
        if (t.is_object() && t["spec"].is_object()) {
          t["spec"]["containers"] = {{"name", FrameworkContainerName()},
                                     {"image", "busybox"}};
          Note(at + "containers as an object", Verdict::kRefused);
        }
        break;
      case 10:
        set(main, "ports", absl::StrCat(kind_->port), "ports as a string", Verdict::kRefused);
        break;
      case 11:
        if (t.is_object()) {
          t["metadata"] = {{"labels", {{"app", "train"}, {"gpus", 8}, {"on", true}}}};
          Note(at + "template labels with non-string values", Verdict::kRefused);
        }
        break;
      case 12:
        if (t.is_object()) {
          t["metadata"] = {{"ownerReferences",
                            c_.OneIn(2) ? Json("me") : Json::array({{{"uid", 7}}, nullptr})}};
          Note(at + "template ownerReferences junk", Verdict::kEither);
        }
        break;
      case 13:
        if (t.is_object() && t["spec"].is_object()) {
          t["spec"].erase("containers");
          Note(at + "no containers", Verdict::kRefused);
        }
        break;
      case 14:
        if (t.is_object() && t["spec"].is_object()) {
          t["spec"]["containers"] = Json::array();
          Note(at + "containers empty", Verdict::kRefused);
        }
        break;
      case 15:
        if (main != nullptr) {
          main->erase("image");
          Note(at + "framework container without image", Verdict::kRefused);
        }
        break;
      case 16:
        if (main != nullptr) {
          (*main)["name"] = c_.OneIn(2) ? Json("TensorFlow") : Json(17);
          Note(at + "framework container renamed", Verdict::kRefused);
        }
        break;
      case 17:
        Tmpl(key) = c_.OneIn(2) ? Json::object() : Json{{"metadata", Json::object()}};
        Note(at + "empty template", Verdict::kRefused);
        break;
      case 18:
        Tmpl(key)["spec"] = c_.OneIn(2) ? Json("containers: []") : Json::array();
        Note(at + "template spec not an object", Verdict::kRefused);
        break;
      case 19:
        if (t.is_object() && t["spec"].is_object()) {
          // The container first: inserting into the pod spec may copy its members elsewhere
          // (ordered_json's members have const keys, so they are copied, not moved).
          if (main != nullptr) (*main)["sparkle"] = 3;
          t["spec"]["frobnicate"] = {{"x", Json::array({1, "two", nullptr})}};
          Note(at + "unknown template fields", Verdict::kEither);
        }
        break;
      case 20:
        set(main, "resources", {{"limits", {{"cpu", {{"cores", 2}}}, {"memory", "lots"}}}},
            "resources with odd quantities", Verdict::kEither);
        break;
      case 21:
        set(main, "command", "python train.py", "command as a string", Verdict::kRefused);
        break;
      case 22:
        set(main, "env", Json::array({{{"name", "N"}, {"value", 3}}}),
            "env value as a number", Verdict::kRefused);
        break;
      case 23:
        if (t.is_object() && t["spec"].is_object() && t["spec"]["containers"].is_array()) {
          t["spec"]["containers"].push_back(FrameworkContainerName());
          Note(at + "a container that is a string", Verdict::kRefused);
        }
        break;
      case 24:
        if (t.is_object() && t["spec"].is_object()) {
          t["spec"]["terminationGracePeriodSeconds"] =
              c_.OneIn(2) ? Json(INT64_MAX) : Json(int64_t{-5});
          t["spec"]["restartPolicy"] = "Sometimes";
          Note(at + "huge or negative pod spec numbers, odd template restartPolicy",
               Verdict::kEither);
        }
        break;
      case 25: {
        // Deeply nested junk where nobody looks.
        Json deep = "bottom";
        for (int i = 0; i < 150; ++i) deep = Json::array({std::move(deep)});
        if (t.is_object()) {
          t["spec"]["x-deep"] = std::move(deep);
          Note(at + "150 levels of nested arrays in the template", Verdict::kEither);
        }
        break;
      }
      case 58:
        // Well-typed, but what the API server's own pod validation refuses (and lib/api with it).
        switch (c_.Below(4)) {
          case 0:
            if (t.is_object() && t["spec"].is_object() && t["spec"]["containers"].is_array()) {
              // `main` may point into the array: not used after this.
              t["spec"]["containers"].push_back({{"name", "Side_Car"}, {"image", "busybox"}});
              Note(at + "a container named Side_Car", Verdict::kRefused);
            }
            break;
          case 1:
          case 2:
            if (Json* p = port()) {
              const int64_t v = c_.OneIn(2) ? 0 : 70000;
              (*p)["containerPort"] = v;
              Note(absl::StrCat(at, "containerPort ", v), Verdict::kRefused);
            }
            break;
          case 3:
            if (Json* p = port()) {
              (*p)["hostPort"] = 70000;
              Note(at + "hostPort 70000", Verdict::kRefused);
            }
            break;
        }
        break;
      case 59:
        if (t.is_object()) {
          Json& meta = t["metadata"];
          if (!meta.is_object()) meta = Json::object();
          Json& labels = meta["labels"];
          if (!labels.is_object()) labels = Json::object();
          switch (c_.Below(3)) {
            case 0:
              labels["team"] = LabelOfLength(64);
              Note(at + "a template label value of 64 characters", Verdict::kRefused);
              break;
            case 1:
              labels["team"] = c_.Pick<std::string>({"-ml", "ml team", "ml_"});
              Note(at + "a template label value that is not label-shaped", Verdict::kRefused);
              break;
            case 2:
              labels["-team"] = "ml";
              Note(at + "a template label key \"-team\"", Verdict::kRefused);
              break;
          }
        }
        break;
    }
  }

  void MutateReplicaSpec(int pick) {
    const std::string key = PickKey();
    if (key.empty()) return;
    const std::string canonical = Canonical(*kind_, key);
    if (pick <= 27) {
      if (!Claim("replicas:" + key) || !Claim("replicas:*")) return;
      touched_.erase("replicas:*");  // only the all-types mutation keeps it
      const int64_t v = c_.Pick<int64_t>({INT32_MAX, 100000, 5001, -1, INT32_MIN, 0, -5000, 2});
      Entry(key)["replicas"] = v;
      Note(absl::StrCat(key, " replicas ", v),
           canonical.empty() ? Verdict::kRefused : ReplicasVerdict(canonical, v));
      return;
    }
    if (pick == 28) {
      if (!Claim("replicas:" + key) || !Claim("replicas:*")) return;
      touched_.erase("replicas:*");
      Entry(key).erase("replicas");
      Note(key + " without replicas", Verdict::kRuns);  // defaults to 1
      return;
    }
    if (pick == 29) {
      // Enough replicas over every non-master type to pass the per-job limit of 10,000 (or the
      // per-type limit of 5,000 when there is just one such type).
      std::vector<std::string> keys;
      for (const std::string& k : Keys()) {
        const std::string canon = Canonical(*kind_, k);
        if (canon != "Master" && canon != "Chief" && !touched_.contains("replicas:" + k)) {
          keys.push_back(k);
        }
      }
      if (keys.empty() || !Claim("replicas:*")) return;
      const int64_t each = std::min<int64_t>(5001, 10001 / static_cast<int64_t>(keys.size()) + 1);
      for (const std::string& k : keys) {
        touched_.insert("replicas:" + k);
        Entry(k)["replicas"] = each;
      }
      Note(absl::StrCat(keys.size(), " types of ", each, " replicas"), Verdict::kRefused);
      return;
    }
    if (!Claim("restartPolicy:" + key) || (pick == 31 && !Claim("template:" + key))) return;
    if (pick == 30) {
      Entry(key)["restartPolicy"] = c_.Pick<std::string>({"Sometimes", "", "onfailure", "NEVER"});
      Note(key + " restartPolicy unknown", Verdict::kRefused);
    } else {
      Entry(key).erase("template");
      Note(key + " without template", Verdict::kRefused);
    }
  }

  void MutateName(int pick) {
    if (!Claim("name")) return;
    std::string name;
    if (pick == 32) {
      // Long names: the job's own limit is 63, its services' names add "-<type>-<index>".
      name = LabelOfLength(static_cast<size_t>(c_.Pick<int64_t>({63, 64, 55, 56, 50, 60, 253})));
    } else {
      name = c_.Pick<std::string>({"1job", "job.v2", "a.b.c", "job-", "0", "x--y"});
      if (name == "job-") name = "job-9";  // the API server refuses a trailing '-'
    }
    job_.object["metadata"]["name"] = name;
    job_.object["metadata"]["uid"] = absl::StrCat("uid-", name.substr(0, 16));
    Note(absl::StrCat("name \"", name.size() > 20 ? absl::StrCat(name.size(), " characters")
                                                  : name, "\""),
         Verdict::kRuns);  // Finish() judges names
  }

  void MutateRunPolicy(int pick) {
    if (!Claim("runPolicy")) return;
    Json& spec = job_.object["spec"];
    Json& rp = spec["runPolicy"];
    if (!rp.is_object()) rp = Json::object();
    switch (pick) {
      case 34:
        rp["ttlSecondsAfterFinished"] = -1;
        rp["activeDeadlineSeconds"] = -5;
        Note("ttlSecondsAfterFinished -1, activeDeadlineSeconds -5", Verdict::kRefused);
        break;
      case 35:
        rp["backoffLimit"] = c_.OneIn(2) ? INT32_MIN : -3;
        Note("backoffLimit negative", Verdict::kRefused);
        break;
      case 36:
        rp["ttlSecondsAfterFinished"] = INT32_MAX;
        rp["backoffLimit"] = INT32_MAX;
        rp["activeDeadlineSeconds"] = INT64_MAX;
        Note("run policy numbers at their maximum", Verdict::kRuns);
        break;
      case 37:
        rp["cleanPodPolicy"] = c_.Pick<std::string>({"Sometimes", "all", ""});
        Note("cleanPodPolicy unknown", Verdict::kRefused);
        break;
      case 38:
        rp["suspend"] = true;
        Note("suspended", Verdict::kRuns);
        suspended_ = true;
        break;
      case 39:
        rp["schedulingPolicy"] = {{"minAvailable", -1}, {"queue", ""},
                                  {"minResources", {{"cpu", "lots"}, {"memory", 12}}}};
        Note("schedulingPolicy minAvailable -1", Verdict::kRefused);
        break;
      case 40:
        // Legacy flat keys (older operators' layout), one of them negative.
        spec["ttlSecondsAfterFinished"] = -1;
        spec["backoffLimit"] = INT32_MAX;
        spec.erase("runPolicy");
        Note("legacy flat ttlSecondsAfterFinished -1", Verdict::kRefused);
        break;
      case 41:
        rp["activeDeadlineSeconds"] = 0;
        rp["frobnicate"] = Json::array({1, 2});
        Note("activeDeadlineSeconds 0 and an unknown run policy field", Verdict::kEither);
        unknown_pods_ = true;  // fails by deadline, maybe after creating its pods
        break;
    }
  }

  void MutateAnnotations(int pick) {
    if (!Claim("annotations")) return;
    Json& annotations = job_.object["metadata"]["annotations"];
    const std::string code_sync = "kubedl.io/git-sync-config";
    switch (pick) {
      case 42:
        annotations[code_sync] = c_.Pick<std::string>(
            {"{not json", "[]", "{}", "{\"source\": 5}", "null", "{\"source\": \"\"}",
             "{\"sourceType\": \"ftp\", \"source\": \"ftp://x\"}", "\"https://x/y.git\""});
        Note("code-sync annotation junk", Verdict::kRefused);
        break;
      case 43:
        annotations[code_sync] = "{\"source\": \"https://example.com/org/repo.git\", "
                                 "\"depth\": 1, \"envs\": [{\"name\": \"A\", \"value\": \"b\"}]}";
        Note("code-sync annotation, valid", Verdict::kRuns);
        break;
      case 44:
        annotations["kubedl.io/recreations"] =
            c_.Pick<std::string>({"lots", "-5", "99999999999999999999999", "", "1e9"});
        Note("recreations annotation junk", Verdict::kEither);
        unknown_pods_ = true;  // a huge count may exceed backoffLimit at once
        break;
    }
  }

  void MutateStatus(int pick) {
    if (!Claim("status")) return;
    Json& status = job_.object["status"];
    switch (pick) {
      case 45:
        status = {{"conditions",
                   Json::array({{{"type", "Exploded"}, {"status", "Maybe"}},
                                {{"type", "Running"}, {"status", "True"}, {"reason", ""}},
                                {{"type", "Running"}, {"status", "False"}}})},
                  {"replicaStatuses",
                   {{"Nonsense", {{"active", -4}}}, {"Worker", {{"failed", INT32_MAX}}}}}};
        Note("status with unknown and duplicate conditions, odd replica counts",
             Verdict::kEither);
        unknown_pods_ = true;
        break;
      case 46:
        status = {{"conditions",
                   Json::array({{{"type", c_.OneIn(2) ? "Succeeded" : "Failed"},
                                 {"status", "True"}, {"reason", "SomebodySaidSo"},
                                 {"message", "written by a buggy client"}}})},
                  {"startTime", "1970-01-01T00:00:00Z"}};
        Note("finished status from a buggy client", Verdict::kEither);
        unknown_pods_ = true;
        finished_ = true;  // a finished job is left as it is, valid or not
        break;
      case 47:
        if (options_.beyond_crd_schema) {
          status = c_.OneIn(2)
                       ? Json{{"conditions", "Running"}}
                       : Json{{"conditions", Json::array({{{"type", 5}, {"status", true}}})},
                              {"startTime", "yesterday"},
                              {"replicaStatuses", Json::array()}};
          Note("status of the wrong types", Verdict::kEither, /*within_crd=*/false);
          unknown_pods_ = true;
        }
        break;
    }
  }

  void MutateKindSpecific(int pick) {
    if (pick == 49) return MutateBeyondSchema();
    if (!Claim("kind")) return;
    Json& spec = job_.object["spec"];
    switch (job_.kind) {
      case api::JobKind::kTFJob:
        if (c_.OneIn(2)) {
          spec["successPolicy"] = "SomeWorkers";
          Note("successPolicy unknown", Verdict::kRefused);
        } else {
          spec["enableDynamicWorker"] = true;
          Note("enableDynamicWorker", Verdict::kRuns);
        }
        break;
      case api::JobKind::kPyTorchJob:
        if (c_.OneIn(2)) {
          spec["nprocPerNode"] = c_.Pick<std::string>({"0", "lots", "-2", ""});
          Note("nprocPerNode invalid", Verdict::kRefused);
        } else {
          spec["elasticPolicy"] = {{"minReplicas", 5}, {"maxReplicas", 2}, {"rdzvPort", 70000}};
          Note("elasticPolicy min > max, rdzvPort 70000", Verdict::kRefused);
        }
        break;
      case api::JobKind::kXGBoostJob:
        spec["successPolicy"] = "junk";  // not an XGBoost field: the CRD prunes it; ignored
        Note("a TFJob field on an XGBoostJob", Verdict::kEither);
        break;
      case api::JobKind::kXDLJob:
        if (c_.OneIn(2)) {
          spec["minFinishWorkRate"] = c_.OneIn(2) ? 0 : 101;
        } else {
          spec["minFinishWorkNum"] = -1;
        }
        Note("XDL minFinishWork out of range", Verdict::kRefused);
        break;
      case api::JobKind::kMPIJob:
        spec["slotsPerWorker"] = 0;
        Note("MPI slotsPerWorker 0", Verdict::kRefused);
        break;
      case api::JobKind::kPaddleJob:
        spec["elasticPolicy"] = {{"minReplicas", 5}, {"maxReplicas", 2}};
        Note("Paddle elasticPolicy min > max", Verdict::kRefused);
        break;
      case api::JobKind::kJAXJob:
        spec["runPolicy"]["backoffLimit"] = -1;
        Note("JAX negative backoffLimit", Verdict::kRefused);
        break;
    }
  }

  // Shapes the CRD schema refuses: only a buggy client or cache would produce them.
  void MutateBeyondSchema() {
    if (!options_.beyond_crd_schema) return;
    const std::string key = PickKey();
    if (key.empty() || !Claim("replicas:" + key) || !Claim("template:" + key) ||
        !Claim("restartPolicy:" + key) || !Claim("beyond")) {
      return;
    }
    switch (c_.Below(5)) {
      case 0: Entry(key)["replicas"] = "two"; break;
      case 1: Entry(key)["replicas"] = 1.5; break;
      case 2: Entry(key)["replicas"] = int64_t{1} << 40; break;
      case 3: Entry(key)["restartPolicy"] = 3; break;
      case 4: Entry(key)["template"] = Json::array({"not", "a", "template"}); break;
    }
    Note(key + " replica spec of the wrong types", Verdict::kRefused, /*within_crd=*/false);
  }

  void MutateMap(int pick) {
    if (!Claim("map")) return;
    std::vector<std::string> keys = Keys();
    switch (pick) {
      case 50:
      case 51: {
        const std::string unknown = c_.Pick<std::string>(
            {"Foo", "Coordinator", "", std::string(300, 'x'), "worker-0", "Ps "});
        Json r = {{"replicas", 1}, {"template", Template()}};
        (*Map())[unknown] = std::move(r);
        Note(absl::StrCat("unknown replica type \"", unknown.substr(0, 12), "\""),
             Verdict::kRefused);
        break;
      }
      case 52:
      case 53: {
        // An oddly-cased spelling of a type the job has: defaulting canonicalises it.
        if (keys.empty()) break;
        const std::string key = keys[c_.Below(keys.size())];
        std::string odd = key;
        for (size_t i = 0; i < odd.size(); ++i) {
          odd[i] = i % 2 ? absl::ascii_toupper(odd[i]) : absl::ascii_tolower(odd[i]);
        }
        if (odd == key) odd = Lower(key);
        if (odd == key) break;
        Json entry = std::move((*Map())[key]);
        Map()->erase(key);
        (*Map())[odd] = std::move(entry);
        Note(absl::StrCat("replica type spelled \"", odd, "\""), Verdict::kRuns);
        break;
      }
      case 54:
      case 55: {
        // The same type twice, in different case.
        if (keys.empty()) break;
        const std::string key = keys[c_.Below(keys.size())];
        const std::string twin = Lower(key) == key ? absl::AsciiStrToUpper(key) : Lower(key);
        Json entry = (*Map())[key];
        (*Map())[twin] = std::move(entry);
        Note(absl::StrCat("replica type twice: \"", key, "\" and \"", twin, "\""),
             Verdict::kRefused);
        break;
      }
      case 56:
        if (Json* map = Map()) *map = Json::object();
        Note("empty replica map", Verdict::kRefused);
        break;
      case 57:
        job_.object["spec"] = Json::object();
        Note("spec {}", Verdict::kRefused);
        break;
    }
  }

  // --- The verdict --------------------------------------------------------------------------

  // Checks that depend on the final job: the name and the names it implies, the per-job total.
  void Finish() {
    const std::string name = job_.name();
    auto is_label = [](const std::string& s) {
      if (s.empty() || s.size() > 63 || !absl::ascii_islower(s.front())) return false;
      if (!absl::ascii_islower(s.back()) && !absl::ascii_isdigit(s.back())) return false;
      return std::all_of(s.begin(), s.end(), [](char ch) {
        return absl::ascii_islower(ch) || absl::ascii_isdigit(ch) || ch == '-';
      });
    };
    if (!is_label(name)) refused_ = true;
    int64_t total = 0;
    bool total_known = true;
    size_t longest = 0;
    for (const std::string& key : Keys()) {
      const Json& entry = (*Map())[key];
      // A missing count defaults to 1, an MPI Worker's to 0 (SPEC §9).
      int64_t replicas =
          job_.kind == api::JobKind::kMPIJob && Canonical(*kind_, key) == "Worker" ? 0 : 1;
      if (entry.is_object() && entry.contains("replicas")) {
        const Json& r = entry["replicas"];
        if (r.is_number_integer()) {
          replicas = r.get<int64_t>();
        } else {
          total_known = false;
          continue;
        }
      }
      total += std::clamp<int64_t>(replicas, 0, INT32_MAX);
      if (replicas > 0) {
        std::string canon = Canonical(*kind_, key);
        const std::string type = Lower(canon.empty() ? key : canon);
        longest = std::max(longest, name.size() + type.size() + 2 +
                                        std::to_string(replicas - 1).size());
      }
    }
    if (longest > 63) refused_ = true;
    if (total > 10000) refused_ = true;
    if (refused_ && !finished_) {
      job_.verdict = Verdict::kRefused;
    } else if (refused_) {
      job_.verdict = Verdict::kEither;
    } else if (either_ || !job_.within_crd_schema) {
      job_.verdict = Verdict::kEither;
    } else {
      job_.verdict = Verdict::kRuns;
      if (total_known && !suspended_ && !unknown_pods_) job_.expected_pods = total;
    }
  }

  ChoiceSource& c_;
  const GeneratorOptions& options_;
  OddJob job_;
  const api::KindDescriptor* kind_ = nullptr;
  std::set<std::string> touched_;
  bool refused_ = false;
  bool either_ = false;
  bool suspended_ = false;
  bool unknown_pods_ = false;
  bool finished_ = false;
};

}  // namespace

OddJob GenerateOddJob(ChoiceSource& choices, const GeneratorOptions& options) {
  return Generator(choices, options).Run();
}

}  // namespace kubedl::reconciler::testing
