#include "kubedl/kube/token_source.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"

namespace kubedl::kube {

TokenSource::TokenSource(std::string token, std::string token_file, absl::Duration reload_period,
                         Clock& clock)
    : token_file_(std::move(token_file)),
      reload_period_(reload_period),
      clock_(clock),
      token_(std::move(token)) {}

std::string TokenSource::Token() {
  absl::MutexLock lock(&mu_);
  if (token_file_.empty()) return token_;
  absl::Time now = clock_.Now();
  if (now - loaded_at_ >= reload_period_) {
    std::ifstream in(token_file_);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string fresh(absl::StripAsciiWhitespace(ss.str()));
      if (!fresh.empty()) token_ = std::move(fresh);
      loaded_at_ = now;
    }
  }
  return token_;
}

}  // namespace kubedl::kube
