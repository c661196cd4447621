#include "kubedl/kube/ndjson.h"

namespace kubedl::kube {
namespace {
void Emit(absl::string_view line, const std::function<void(absl::string_view)>& on_line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.empty()) on_line(line);
}
}  // namespace

void NdjsonSplitter::Feed(absl::string_view chunk,
                          const std::function<void(absl::string_view)>& on_line) {
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    if (nl == absl::string_view::npos) {
      partial_.append(chunk.data(), chunk.size());
      return;
    }
    if (partial_.empty()) {
      Emit(chunk.substr(0, nl), on_line);  // the common case: no copy
    } else {
      partial_.append(chunk.data(), nl);
      std::string line = std::move(partial_);
      partial_.clear();
      Emit(line, on_line);
    }
    chunk.remove_prefix(nl + 1);
  }
}

}  // namespace kubedl::kube
