// kubedl-kinds: prints lib/api's kind table (lib/api/src/kind.cc), for scripts and checks.
//   kubedl-kinds [--format=tsv|json|chart|markdown]
//     tsv       kind, group, version, plural, replica map key; tab-separated, a line a kind
//     json      every field of each KindDescriptor
//     chart     the `kinds:` list of charts/kubedl/kinds.yaml
//     markdown  the kinds table of docs/api.md
#include <iostream>
#include <string_view>

#include "kind_table_text.h"

int main(int argc, char** argv) {
  std::string_view format = "tsv";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--format=")) {
      format = arg.substr(9);
    } else {
      std::cerr << "usage: kubedl-kinds [--format=tsv|json|chart|markdown]\n";
      return 2;
    }
  }
  if (format == "tsv") {
    std::cout << kubedl::kinds::KindsTsv();
  } else if (format == "json") {
    std::cout << kubedl::kinds::KindsJson();
  } else if (format == "chart") {
    std::cout << kubedl::kinds::KindsChartList();
  } else if (format == "markdown") {
    std::cout << kubedl::kinds::KindsMarkdown();
  } else {
    std::cerr << "kubedl-kinds: unknown format \"" << format
              << "\" (tsv, json, chart or markdown)\n";
    return 2;
  }
  return 0;
}
