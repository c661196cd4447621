#pragma once
// Debian's abseil is built with its own string_view type; std::string_view does not convert to
// it implicitly. A(s) bridges the two without a copy.
#include <string_view>

#include "absl/strings/string_view.h"

namespace kubedl {

inline absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view S(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace kubedl
