#pragma once

// Kubernetes resource quantities ("500m", "2", "1.5Gi", "1e3") as exact numbers, so that the
// requests of many pods add up to the same value the API server would compute.

#include <map>
#include <string>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kubedl::kube {

// A quantity held exactly in billionths of its unit (nano-units); 128 bits hold every value a
// Kubernetes quantity may carry (up to 2^63 Ei) at that precision.
class Quantity {
 public:
  Quantity() = default;
  static absl::StatusOr<Quantity> Parse(absl::string_view text);
  static Quantity FromNanos(absl::int128 nanos) { return Quantity(nanos); }

  Quantity& operator+=(const Quantity& other) { nanos_ += other.nanos_; return *this; }
  Quantity operator*(long long factor) const { return Quantity(nanos_ * factor); }
  bool operator==(const Quantity& other) const { return nanos_ == other.nanos_; }
  bool operator<(const Quantity& other) const { return nanos_ < other.nanos_; }
  bool IsZero() const { return nanos_ == 0; }

  // A valid quantity string the API server accepts: whole units as a plain integer, otherwise
  // milli-units ("1500m") or nano-units ("5n").
  std::string ToString() const;

 private:
  explicit Quantity(absl::int128 nanos) : nanos_(nanos) {}
  absl::int128 nanos_ = 0;
};

// resource name (cpu, memory, nvidia.com/gpu, ...) -> amount.
using ResourceList = std::map<std::string, Quantity>;

// Parses a map of resource amounts; the first malformed or negative one is an InvalidArgument
// naming it.
absl::StatusOr<ResourceList> ParseResourceList(const std::map<std::string, std::string>& raw);

}  // namespace kubedl::kube
