#pragma once
// lib/api's kind table as text, for `kubedl-kinds` and the test that checks the chart, the tools
// and the docs against the table (test/kinds).
#include <string>

namespace kubedl::kinds {

// One line a kind: kind, group, version, plural, replica map key, separated by tabs.
std::string KindsTsv();
// A JSON array, one object a kind with every field of its KindDescriptor.
std::string KindsJson();
// The `kinds:` list of charts/kubedl/kinds.yaml (without its comment).
std::string KindsChartList();
// The table of docs/api.md's "Kinds" section: header, separator and one row a kind.
std::string KindsMarkdown();

}  // namespace kubedl::kinds
