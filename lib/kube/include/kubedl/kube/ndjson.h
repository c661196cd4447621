#pragma once

// Splits a newline-delimited JSON stream (a watch response) into lines. Chunk boundaries and
// line boundaries are unrelated: a line may span several chunks, a chunk may hold several lines.

#include <functional>
#include <string>
#include "absl/strings/string_view.h"

namespace kubedl::kube {

class NdjsonSplitter {
 public:
  // Calls `on_line` for every complete, non-empty line in `chunk` (without the newline, and
  // without a trailing '\r'). The view is valid only during the call.
  void Feed(absl::string_view chunk, const std::function<void(absl::string_view)>& on_line);
  // Bytes of an unfinished line held back for the next Feed.
  size_t pending() const { return partial_.size(); }

 private:
  std::string partial_;
};

}  // namespace kubedl::kube
