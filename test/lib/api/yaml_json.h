#pragma once
// YAML manifests (examples/*.yaml) as api::Json, for tests: plain scalars become numbers,
// booleans or null the way kubectl reads them; quoted scalars stay strings.
#include <cstdlib>
#include <string>
#include <vector>

#include "kubedl/api/json.h"
#include "yaml-cpp/yaml.h"

namespace kubedl::api::testing {

inline Json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() != "?") return s;  // quoted
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      char* end = nullptr;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0') return i;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0') return d;
      return s;
    }
    default:
      return nullptr;
  }
}

// Every document of a YAML file (a manifest may hold several, separated by ---).
inline std::vector<Json> YamlFileToJson(const std::string& path) {
  std::vector<Json> out;
  for (const YAML::Node& doc : YAML::LoadAllFromFile(path)) {
    if (doc.IsMap()) out.push_back(YamlToJson(doc));
  }
  return out;
}

}  // namespace kubedl::api::testing
