#include "services/metrics/label_rules.h"

#include <algorithm>

namespace kubedl::metrics {

bool IsObjectUid(std::string_view s) {
  if (s.empty() || s.size() > kMaxUidLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == ':';
  });
}

bool IsReconcilerId(std::string_view s) {
  if (s.empty() || s.size() > kMaxReconcilerIdLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace kubedl::metrics
