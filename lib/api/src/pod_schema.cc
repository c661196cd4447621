#include "kubedl/api/pod_schema.h"

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <utility>


namespace kubedl::api {
namespace {

constexpr std::string_view kRefPrefix = "#/components/schemas/";
constexpr std::string_view kRoot = "io.k8s.api.core.v1.PodTemplateSpec";
constexpr std::string_view kQuantity = "io.k8s.apimachinery.pkg.api.resource.Quantity";
constexpr std::string_view kIntOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
// Deeper than any pod schema (about 12 levels); guards both the compiler and the checker.
constexpr int kMaxDepth = 48;

// Required fields whose zero value the API server accepts all the same (its validation does not
// look at them), so a missing one is no reason to refuse: {schema name, field}.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kRequiredButOptional = {{
    {"io.k8s.api.core.v1.HTTPHeader", "value"},
    {"io.k8s.api.core.v1.Sysctl", "value"},
}};

using Type = PodSchema::Type;
using Node = PodSchema::Node;
using Property = PodSchema::Property;

// Compiles components.schemas into PodSchema's flat arrays. Works on ordered_json (documents we
// hold) and json (what lib/kube returns) alike.
template <typename J>
class Compiler {
 public:
  explicit Compiler(const J& schemas) : schemas_(schemas) {}

  absl::StatusOr<std::shared_ptr<const PodSchema>> Run(std::string origin) {
    auto root_it = schemas_.find(std::string(kRoot));
    if (root_it == schemas_.end() || !root_it->is_object()) {
      return absl::InvalidArgumentError(
          "the OpenAPI document has no components.schemas[" + std::string(kRoot) + "]");
    }
    uint32_t root = Ref(kRoot, 0);
    // The reconciler overwrites these fields of the template, so their values never reach the
    // API server: private copies of the top nodes mark them skipped (ObjectMeta and PodSpec are
    // shared with other places, such as an ephemeral volume's claim template).
    root = Clone(root);
    SkipFields(root, "metadata", {"name", "namespace", "ownerReferences"});
    SkipFields(root, "spec", {"restartPolicy"});
    return Flatten(std::move(origin), root);
  }

 private:
  uint32_t NewNode(Type type) {
    nodes_.push_back(Node{.type = type});
    properties_.emplace_back();
    enums_.emplace_back();
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  uint32_t Clone(uint32_t node) {
    uint32_t copy = NewNode(Type::kAny);
    nodes_[copy] = nodes_[node];
    properties_[copy] = properties_[node];
    enums_[copy] = enums_[node];
    return copy;
  }

  void SkipFields(uint32_t object, std::string_view field,
                  std::initializer_list<std::string_view> skipped) {
    // By index: Clone grows the per-node vectors.
    for (size_t i = 0; i < properties_[object].size(); ++i) {
      if (properties_[object][i].name != field) continue;
      uint32_t child = properties_[object][i].node;
      if (child == PodSchema::kNoNode) continue;
      child = Clone(child);
      properties_[object][i].node = child;
      for (Property& q : properties_[child]) {
        if (std::find(skipped.begin(), skipped.end(), q.name) != skipped.end()) q.skipped = true;
      }
    }
  }

  // A named schema, compiled once: every use of Container shares one node.
  uint32_t Ref(std::string_view name, int depth) {
    if (name == kQuantity) return Leaf(Type::kQuantity);
    if (name == kIntOrString) return Leaf(Type::kIntOrString);
    std::string key(name);
    if (auto it = compiled_.find(key); it != compiled_.end()) return it->second;
    auto schema = schemas_.find(key);
    if (schema == schemas_.end() || !schema->is_object()) return Leaf(Type::kAny);
    // Reserved before the body is compiled, so a cycle ends here instead of recursing (pod
    // schemas have none; the checker's depth cap bounds a walk through one anyway).
    uint32_t node = NewNode(Type::kAny);
    compiled_[key] = node;
    Fill(node, *schema, name, depth);
    return node;
  }

  uint32_t Leaf(Type type) {
    auto& cached = leaves_[static_cast<size_t>(type)];
    if (cached == PodSchema::kNoNode) cached = NewNode(type);
    return cached;
  }

  uint32_t Inline(const J& schema, int depth) {
    if (!schema.is_object()) return Leaf(Type::kAny);
    if (const std::string* ref = RefOf(schema)) {
      return Ref(std::string_view(*ref).substr(kRefPrefix.size()), depth + 1);
    }
    if (auto all = schema.find("allOf"); all != schema.end()) {
      // The v3 document wraps every $ref as allOf: [{$ref}] (to give it a description).
      if (all->is_array() && all->size() == 1) return Inline((*all)[0], depth + 1);
      return Leaf(Type::kAny);
    }
    uint32_t node = NewNode(Type::kAny);
    Fill(node, schema, "", depth);
    return node;
  }

  const std::string* RefOf(const J& schema) {
    auto ref = schema.find("$ref");
    if (ref == schema.end() || !ref->is_string()) return nullptr;
    const std::string& s = ref->template get_ref<const std::string&>();
    return s.rfind(kRefPrefix, 0) == 0 ? &s : nullptr;
  }

  static bool Flag(const J& schema, const char* key) {
    auto it = schema.find(key);
    return it != schema.end() && it->is_boolean() && it->template get<bool>();
  }

  static std::string_view StringAt(const J& schema, const char* key) {
    auto it = schema.find(key);
    if (it == schema.end() || !it->is_string()) return {};
    return it->template get_ref<const std::string&>();
  }

  void Fill(uint32_t node, const J& schema, std::string_view name, int depth) {
    if (depth > kMaxDepth) return;
    if (const std::string* ref = RefOf(schema)) {
      uint32_t target = Ref(std::string_view(*ref).substr(kRefPrefix.size()), depth + 1);
      Copy(node, target);
      return;
    }
    if (auto all = schema.find("allOf"); all != schema.end()) {
      if (all->is_array() && all->size() == 1) Copy(node, Inline((*all)[0], depth + 1));
      return;
    }
    std::string_view type = StringAt(schema, "type");
    std::string_view format = StringAt(schema, "format");
    if (Flag(schema, "x-kubernetes-int-or-string") || format == "int-or-string") {
      nodes_[node].type = Type::kIntOrString;
      return;
    }
    if (schema.contains("oneOf") || schema.contains("anyOf")) return;  // not ours to judge
    auto props = schema.find("properties");
    auto additional = schema.find("additionalProperties");
    bool has_props = props != schema.end() && props->is_object();
    bool has_additional = additional != schema.end() && additional->is_object();
    if (type == "object" || (type.empty() && (has_props || has_additional))) {
      nodes_[node].type = Type::kObject;
      std::vector<Property> list;
      if (has_props) {
        for (auto it = props->begin(); it != props->end(); ++it) {
          list.push_back(Property{.name = it.key(), .node = Inline(it.value(), depth + 1)});
        }
      }
      if (has_additional) nodes_[node].element = Inline(*additional, depth + 1);
      if (auto required = schema.find("required");
          required != schema.end() && required->is_array()) {
        int8_t bit = 0;
        for (const auto& r : *required) {
          if (!r.is_string() || bit >= 64) continue;
          const std::string& field = r.template get_ref<const std::string&>();
          if (std::find(kRequiredButOptional.begin(), kRequiredButOptional.end(),
                        std::pair<std::string_view, std::string_view>(name, field)) !=
              kRequiredButOptional.end()) {
            continue;
          }
          auto p = std::find_if(list.begin(), list.end(),
                                [&](const Property& x) { return x.name == field; });
          if (p == list.end()) {
            list.push_back(Property{.name = field});
            p = list.end() - 1;
          }
          if (p->required_bit >= 0) continue;
          p->required_bit = bit;
          nodes_[node].required_mask |= uint64_t{1} << bit;
          ++bit;
        }
      }
      std::sort(list.begin(), list.end(),
                [](const Property& a, const Property& b) { return a.name < b.name; });
      properties_[node] = std::move(list);
      return;
    }
    if (type == "array") {
      nodes_[node].type = Type::kArray;
      if (auto items = schema.find("items"); items != schema.end()) {
        nodes_[node].element = Inline(*items, depth + 1);
      }
      return;
    }
    if (type == "string") {
      nodes_[node].type = Type::kString;
      if (auto values = schema.find("enum"); values != schema.end() && values->is_array()) {
        std::vector<std::string> list;
        for (const auto& v : *values) {
          if (!v.is_string()) return;  // a mixed enum: not ours to judge
          list.push_back(v.template get<std::string>());
        }
        enums_[node] = std::move(list);
      }
      return;
    }
    if (type == "integer") {
      nodes_[node].type = Type::kInteger;
      nodes_[node].int32 = format == "int32";
      return;
    }
    if (type == "number") nodes_[node].type = Type::kNumber;
    if (type == "boolean") nodes_[node].type = Type::kBoolean;
  }

  // `node` becomes what `target` is (a named schema used through allOf/$ref inline).
  void Copy(uint32_t node, uint32_t target) {
    if (node == target) return;
    nodes_[node] = nodes_[target];
    properties_[node] = properties_[target];
    enums_[node] = enums_[target];
  }

  absl::StatusOr<std::shared_ptr<const PodSchema>> Flatten(std::string origin, uint32_t root) {
    std::vector<Property> properties;
    std::vector<std::string> enums;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].first_property = static_cast<uint32_t>(properties.size());
      nodes_[i].property_count = static_cast<uint32_t>(properties_[i].size());
      for (Property& p : properties_[i]) properties.push_back(std::move(p));
      nodes_[i].first_enum = static_cast<uint32_t>(enums.size());
      nodes_[i].enum_count = static_cast<uint32_t>(enums_[i].size());
      for (std::string& e : enums_[i]) enums.push_back(std::move(e));
    }
    return std::make_shared<const PodSchema>(std::move(origin), std::move(nodes_),
                                             std::move(properties), std::move(enums), root);
  }

  const J& schemas_;
  std::vector<Node> nodes_;
  std::vector<std::vector<Property>> properties_;  // per node, flattened at the end
  std::vector<std::vector<std::string>> enums_;
  std::map<std::string, uint32_t> compiled_;
  std::array<uint32_t, 16> leaves_ = [] {
    std::array<uint32_t, 16> a{};
    a.fill(PodSchema::kNoNode);
    return a;
  }();
};

template <typename J>
absl::StatusOr<std::shared_ptr<const PodSchema>> Compile(const J& document, std::string origin) {
  if (!document.is_object()) return absl::InvalidArgumentError("the OpenAPI document is not an object");
  auto components = document.find("components");
  if (components == document.end() || !components->is_object()) {
    return absl::InvalidArgumentError("the OpenAPI document has no components");
  }
  auto schemas = components->find("schemas");
  if (schemas == components->end() || !schemas->is_object()) {
    return absl::InvalidArgumentError("the OpenAPI document has no components.schemas");
  }
  return Compiler<J>(*schemas).Run(std::move(origin));
}

// resource.Quantity's grammar: [+-] digits [. digits] then a suffix: one of the binary (Ki .. Ei)
// or decimal (n u m "" k M G T P E) SI suffixes, or a decimal exponent e<int> / E<int>.
bool IsQuantity(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0, dots = 0;
  for (; i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); ++i) {
    (s[i] == '.' ? dots : digits)++;
  }
  if (digits == 0 || dots > 1) return false;
  std::string_view suffix = s.substr(i);
  static constexpr std::array<std::string_view, 16> kSuffixes = {
      "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (std::find(kSuffixes.begin(), kSuffixes.end(), suffix) != kSuffixes.end()) return true;
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  suffix.remove_prefix(1);
  if (!suffix.empty() && (suffix[0] == '+' || suffix[0] == '-')) suffix.remove_prefix(1);
  return !suffix.empty() &&
         std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const char* TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    default: return "null";
  }
}

}  // namespace

// Walks one template along the compiled tree. The path is a stack of pieces pointing into the
// template's own keys; it becomes a string only for an error.
class PodSchemaChecker {
 public:
  PodSchemaChecker(const PodSchema& schema, std::string_view base, FieldErrors* errors)
      : s_(schema), base_(base), errors_(errors) {}

  void Value(uint32_t index, const Json& v) {
    if (v.is_null() || index == PodSchema::kNoNode || Full()) return;
    const Node& node = s_.nodes_[index];
    switch (node.type) {
      case Type::kAny:
        return;
      case Type::kObject:
        if (!v.is_object()) return Wrong(v, "must be of type object");
        return Object(node, v);
      case Type::kArray:
        if (!v.is_array()) return Wrong(v, "must be of type array");
        if (node.element == PodSchema::kNoNode || depth_ >= kMaxDepth) return;
        for (size_t i = 0; i < v.size(); ++i) {
          Push(Piece{Piece::kIndex, {}, i});
          Value(node.element, v[i]);
          --depth_;
        }
        return;
      case Type::kString:
        if (!v.is_string()) return Wrong(v, "must be of type string");
        if (node.enum_count > 0) Enum(node, v);
        return;
      case Type::kInteger:
        if (!v.is_number_integer()) return Wrong(v, "must be of type integer");
        if (node.int32) Int32(v);
        return;
      case Type::kNumber:
        if (!v.is_number()) Wrong(v, "must be of type number");
        return;
      case Type::kBoolean:
        if (!v.is_boolean()) Wrong(v, "must be of type boolean");
        return;
      case Type::kIntOrString:
        if (v.is_string()) return;
        if (!v.is_number_integer()) return Wrong(v, "must be an integer or a string");
        return Int32(v);
      case Type::kQuantity:
        if (v.is_number()) return;
        if (!v.is_string() || !IsQuantity(v.get_ref<const std::string&>())) {
          Wrong(v, "must be a quantity: a number with an optional suffix (n, u, m, k, M, G, T, "
                   "P, E, Ki, Mi, Gi, Ti, Pi, Ei or e<exponent>), such as 500m or 1.5Gi");
        }
        return;
    }
  }

 private:
  struct Piece {
    enum Kind : uint8_t { kField, kIndex, kKey } kind;
    std::string_view text;
    size_t index;
  };

  bool Full() const { return added_ >= PodSchema::kMaxErrorsPerTemplate; }

  void Push(Piece p) { pieces_[depth_++] = p; }

  void Object(const Node& node, const Json& v) {
    if (depth_ >= kMaxDepth) return;
    const Property* first = s_.properties_.data() + node.first_property;
    const Property* last = first + node.property_count;
    uint64_t seen = 0;
    for (const auto& [key, value] : v.get_ref<const Json::object_t&>()) {
      const Property* p = std::lower_bound(
          first, last, key, [](const Property& a, const std::string& k) { return a.name < k; });
      if (p != last && p->name == key) {
        if (p->skipped) continue;
        if (p->required_bit >= 0 && !value.is_null()) seen |= uint64_t{1} << p->required_bit;
        Push(Piece{Piece::kField, key, 0});
        Value(p->node, value);
        --depth_;
      } else if (node.element != PodSchema::kNoNode) {
        Push(Piece{Piece::kKey, key, 0});
        Value(node.element, value);
        --depth_;
      }
      if (Full()) return;
    }
    if (uint64_t missing = node.required_mask & ~seen; missing != 0) {
      for (const Property* p = first; p != last && !Full(); ++p) {
        if (p->required_bit >= 0 && (missing >> p->required_bit & 1)) {
          Push(Piece{Piece::kField, p->name, 0});
          Add(Required(Path()));
          --depth_;
        }
      }
    }
  }

  void Enum(const Node& node, const Json& v) {
    const std::string& value = v.get_ref<const std::string&>();
    if (value.empty()) return;  // empty means the default for the API server's enums
    auto first = s_.enums_.begin() + node.first_enum;
    auto last = first + node.enum_count;
    if (std::find(first, last, value) == last) {
      Add(NotSupported(Path(), v, std::vector<std::string>(first, last)));
    }
  }

  void Int32(const Json& v) {
    bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= INT32_MAX
                                       : v.get<int64_t>() >= INT32_MIN &&
                                             v.get<int64_t>() <= INT32_MAX;
    if (!fits) Wrong(v, "must be a 32-bit integer");
  }

  // Invalid value: the value itself when it is a scalar, its type name for an object or array
  // (the API server's wording for CRDs; a whole sub-tree would make the message huge).
  void Wrong(const Json& v, const char* detail) {
    Add(Invalid(Path(), v.is_structured() ? Json(TypeName(v)) : v, detail));
  }

  void Add(FieldError e) {
    if (Full()) return;
    errors_->push_back(std::move(e));
    ++added_;
  }

  std::string Path() const {
    std::string out(base_);
    for (size_t i = 0; i < depth_; ++i) {
      const Piece& p = pieces_[i];
      switch (p.kind) {
        case Piece::kField: out.append(".").append(p.text); break;
        case Piece::kIndex: out.append("[").append(std::to_string(p.index)).append("]"); break;
        case Piece::kKey: out.append("[").append(p.text).append("]"); break;
      }
    }
    return out;
  }

  const PodSchema& s_;
  std::string_view base_;
  FieldErrors* errors_;
  size_t added_ = 0;
  size_t depth_ = 0;
  std::array<Piece, kMaxDepth + 1> pieces_;
};

PodSchema::PodSchema(std::string origin, std::vector<Node> nodes,
                     std::vector<Property> properties, std::vector<std::string> enums,
                     uint32_t root)
    : origin_(std::move(origin)),
      nodes_(std::move(nodes)),
      properties_(std::move(properties)),
      enums_(std::move(enums)),
      root_(root) {}

absl::StatusOr<std::shared_ptr<const PodSchema>> PodSchema::FromOpenApiV3(const Json& document,
                                                                           std::string origin) {
  return Compile(document, std::move(origin));
}

absl::StatusOr<std::shared_ptr<const PodSchema>> PodSchema::FromOpenApiV3(
    const nlohmann::json& document, std::string origin) {
  return Compile(document, std::move(origin));
}

void PodSchema::Check(const Json& pod_template, std::string_view path,
                      FieldErrors* errors) const {
  PodSchemaChecker(*this, path, errors).Value(root_, pod_template);
}

}  // namespace kubedl::api
