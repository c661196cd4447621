#include "kubedl/api/kind.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kinds/kind_hooks.h"

namespace kubedl::api {
namespace {

// Debian's abseil has its own string_view type.
inline absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The kind table: one entry per kind, each defined with its hooks in kinds/<kind>.cc. In JobKind
// order: Describe() indexes it by the enum.
std::span<const KindDescriptor> Table() {
  static const auto table = std::to_array<KindDescriptor>({
      kinds::TFJob(),
      kinds::PyTorchJob(),
      kinds::XGBoostJob(),
      kinds::XDLJob(),
      kinds::MPIJob(),
      kinds::PaddleJob(),
      kinds::JAXJob(),
  });
  return table;
}

}  // namespace

std::span<const KindDescriptor> AllKinds() { return Table(); }

const KindDescriptor& Describe(JobKind kind) { return Table()[static_cast<size_t>(kind)]; }

const KindDescriptor* FindKind(std::string_view api_version, std::string_view kind) {
  for (const auto& d : Table()) {
    if (d.api_version == api_version && d.name == kind) return &d;
  }
  return nullptr;
}

const KindDescriptor* FindKindByName(std::string_view kind) {
  for (const auto& d : Table()) {
    if (absl::EqualsIgnoreCase(A(d.name), A(kind))) return &d;
  }
  return nullptr;
}

std::string_view CanonicalReplicaType(const KindDescriptor& kind, std::string_view type) {
  for (std::string_view t : kind.replica_types) {
    if (absl::EqualsIgnoreCase(A(t), A(type))) return t;
  }
  return {};
}

std::string ReplicaObjectName(const KindDescriptor& kind, std::string_view job,
                              std::string_view replica_type, int64_t index) {
  std::string name = absl::StrCat(A(job), "-", absl::AsciiStrToLower(A(replica_type)));
  for (std::string_view unindexed : kind.unindexed_replica_types) {
    if (unindexed == replica_type) return name;
  }
  return absl::StrCat(name, "-", index);
}

}  // namespace kubedl::api
