#include "kubedl/api/kubernetes_names.h"

#include <algorithm>

namespace kubedl::api {
namespace {

bool IsLowerAlphanumeric(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One label without its length limit.
bool IsLabelText(std::string_view text) {
  if (text.empty() || !IsLowerAlphanumeric(text.front()) || !IsLowerAlphanumeric(text.back())) {
    return false;
  }
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return IsLowerAlphanumeric(c) || c == '-'; });
}

}  // namespace

bool IsDns1123Label(std::string_view name) {
  return name.size() <= kMaxDns1123LabelLength && IsLabelText(name);
}

bool IsDns1123Subdomain(std::string_view name) {
  if (name.empty() || name.size() > kMaxDns1123SubdomainLength) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    if (!IsLabelText(name.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsDns1035Label(std::string_view name) {
  return IsDns1123Label(name) && name.front() >= 'a' && name.front() <= 'z';
}

}  // namespace kubedl::api
