#include "core/workloads.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "kubedl/common/string_view.h"

namespace kubedl::reconciler {

absl::StatusOr<WorkloadSelection> ParseWorkloads(std::string_view flag, std::string_view env) {
  absl::string_view value = absl::StripAsciiWhitespace(A(flag.empty() ? env : flag));
  const char* source = flag.empty() ? "WORKLOADS_ENABLE" : "--workloads";
  if (value.empty()) value = "auto";
  WorkloadSelection selection;
  std::vector<api::JobKind> removed;
  bool any_positive = false;
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const bool remove = absl::ConsumePrefix(&item, "-");
    if (!remove && (item == "auto" || item == "*")) {
      selection.discover |= item == "auto";
      for (const auto& d : api::AllKinds()) selection.kinds.push_back(d.kind);
      any_positive = true;
      continue;
    }
    const api::KindDescriptor* kind = api::FindKindByName(S(item));
    if (kind == nullptr) {
      std::vector<std::string> valid;
      for (const auto& d : api::AllKinds()) valid.emplace_back(d.name);
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": unknown workload \"", item, "\"; valid: auto, *, ",
                       absl::StrJoin(valid, ", "), " (prefix a kind with - to disable it)"));
    }
    if (remove) {
      removed.push_back(kind->kind);
    } else {
      selection.kinds.push_back(kind->kind);
      any_positive = true;
    }
  }
  // Only removals ("-XDLJob") mean "everything else, as auto would find it".
  if (!any_positive) {
    selection.discover = true;
    for (const auto& d : api::AllKinds()) selection.kinds.push_back(d.kind);
  }
  std::vector<api::JobKind> kinds;
  for (api::JobKind k : selection.kinds) {
    if (std::ranges::find(removed, k) == removed.end() &&
        std::ranges::find(kinds, k) == kinds.end()) {
      kinds.push_back(k);
    }
  }
  selection.kinds = std::move(kinds);
  return selection;
}

}  // namespace kubedl::reconciler
