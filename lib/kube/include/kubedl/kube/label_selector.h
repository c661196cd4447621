#pragma once

// Label selectors, as the API server understands them: "a=b,c!=d,e in (x,y),f notin (z),g,!h",
// or a metav1.LabelSelector object (matchLabels + matchExpressions).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kubedl/kube/object.h"

namespace kubedl::kube {

class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  // The empty selector matches everything.
  LabelSelector() = default;
  static absl::StatusOr<LabelSelector> Parse(absl::string_view text);
  static absl::StatusOr<LabelSelector> FromObject(const Object& label_selector);

  bool Matches(const Labels& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // The selector in the API server's query syntax.
  std::string ToString() const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace kubedl::kube
