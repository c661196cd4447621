#include "kubedl/common/pem_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kubedl::common {

absl::Status CheckPemFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat(what, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": no PEM block in ", path));
  }
  return absl::OkStatus();
}

}  // namespace kubedl::common
