#include "kubedl/kube/label_selector.h"

#include <algorithm>

#include "kubedl/common/json_access.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kubedl::kube {
namespace {

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitTopLevel(absl::string_view text) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  parts.push_back(current);
  return parts;
}

const std::string* Find(const Labels& labels, const std::string& key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return &v;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<LabelSelector> LabelSelector::Parse(absl::string_view text) {
  LabelSelector selector;
  if (absl::StripAsciiWhitespace(text).empty()) return selector;
  for (const std::string& raw : SplitTopLevel(text)) {
    absl::string_view part = absl::StripAsciiWhitespace(raw);
    if (part.empty()) return absl::InvalidArgumentError(absl::StrCat("empty requirement in ", text));
    Requirement req;
    size_t paren = part.find('(');
    if (paren != absl::string_view::npos) {
      if (part.back() != ')')
        return absl::InvalidArgumentError(absl::StrCat("unclosed set in ", part));
      std::vector<absl::string_view> head =
          absl::StrSplit(absl::StripAsciiWhitespace(part.substr(0, paren)), ' ', absl::SkipEmpty());
      if (head.size() != 2 || (head[1] != "in" && head[1] != "notin"))
        return absl::InvalidArgumentError(absl::StrCat("bad set requirement ", part));
      req.key = std::string(head[0]);
      req.op = head[1] == "in" ? Op::kIn : Op::kNotIn;
      absl::string_view inside = part.substr(paren + 1, part.size() - paren - 2);
      for (absl::string_view v : absl::StrSplit(inside, ',')) {
        v = absl::StripAsciiWhitespace(v);
        req.values.emplace_back(v);
      }
    } else if (size_t ne = part.find("!="); ne != absl::string_view::npos) {
      req.key = std::string(absl::StripAsciiWhitespace(part.substr(0, ne)));
      req.op = Op::kNotEquals;
      req.values.emplace_back(absl::StripAsciiWhitespace(part.substr(ne + 2)));
    } else if (size_t eq = part.find('='); eq != absl::string_view::npos) {
      size_t value_at = eq + 1;
      if (value_at < part.size() && part[value_at] == '=') ++value_at;  // "=="
      req.key = std::string(absl::StripAsciiWhitespace(part.substr(0, eq)));
      req.op = Op::kEquals;
      req.values.emplace_back(absl::StripAsciiWhitespace(part.substr(value_at)));
    } else if (part[0] == '!') {
      req.key = std::string(absl::StripAsciiWhitespace(part.substr(1)));
      req.op = Op::kDoesNotExist;
    } else {
      req.key = std::string(part);
      req.op = Op::kExists;
    }
    if (req.key.empty()) return absl::InvalidArgumentError(absl::StrCat("empty key in ", part));
    selector.requirements_.push_back(std::move(req));
  }
  return selector;
}

absl::StatusOr<LabelSelector> LabelSelector::FromObject(const Object& obj) {
  LabelSelector selector;
  if (obj.is_null()) return selector;
  if (!obj.is_object()) return absl::InvalidArgumentError("label selector is not an object");
  if (auto ml = obj.find("matchLabels"); ml != obj.end() && ml->is_object()) {
    for (auto& [k, v] : ml->items()) {
      if (!v.is_string()) return absl::InvalidArgumentError("matchLabels value is not a string");
      selector.requirements_.push_back({k, Op::kEquals, {v.get<std::string>()}});
    }
  }
  if (auto me = obj.find("matchExpressions"); me != obj.end() && me->is_array()) {
    for (const auto& e : *me) {
      if (!e.is_object()) return absl::InvalidArgumentError("matchExpression is not an object");
      Requirement req;
      req.key = common::StringOr(e, "key");
      std::string op = common::StringOr(e, "operator");
      if (op == "In") {
        req.op = Op::kIn;
      } else if (op == "NotIn") {
        req.op = Op::kNotIn;
      } else if (op == "Exists") {
        req.op = Op::kExists;
      } else if (op == "DoesNotExist") {
        req.op = Op::kDoesNotExist;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unknown operator ", op));
      }
      if (auto vals = e.find("values"); vals != e.end() && vals->is_array()) {
        for (const auto& v : *vals) {
          if (v.is_string()) req.values.push_back(v.get<std::string>());
        }
      }
      selector.requirements_.push_back(std::move(req));
    }
  }
  return selector;
}

bool LabelSelector::Matches(const Labels& labels) const {
  for (const auto& req : requirements_) {
    const std::string* value = Find(labels, req.key);
    bool in = value && std::find(req.values.begin(), req.values.end(), *value) != req.values.end();
    switch (req.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!in) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (in) return false;
        break;
      case Op::kExists:
        if (!value) return false;
        break;
      case Op::kDoesNotExist:
        if (value) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::ToString() const {
  std::vector<std::string> parts;
  for (const auto& req : requirements_) {
    switch (req.op) {
      case Op::kEquals: parts.push_back(absl::StrCat(req.key, "=", req.values.at(0))); break;
      case Op::kNotEquals: parts.push_back(absl::StrCat(req.key, "!=", req.values.at(0))); break;
      case Op::kIn:
        parts.push_back(absl::StrCat(req.key, " in (", absl::StrJoin(req.values, ","), ")"));
        break;
      case Op::kNotIn:
        parts.push_back(absl::StrCat(req.key, " notin (", absl::StrJoin(req.values, ","), ")"));
        break;
      case Op::kExists: parts.push_back(req.key); break;
      case Op::kDoesNotExist: parts.push_back(absl::StrCat("!", req.key)); break;
    }
  }
  return absl::StrJoin(parts, ",");
}

}  // namespace kubedl::kube
