#include "kubedl/kube/quantity.h"

#include <array>
#include <sstream>
#include <cctype>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kubedl::kube {
namespace {

constexpr absl::int128 kNanosPerUnit = 1'000'000'000;

// 10^exp (or 1024^exp); callers keep exp small enough to fit.
absl::int128 Pow(absl::int128 base, int exp) {
  absl::int128 result = 1;
  while (exp-- > 0) result *= base;
  return result;
}

// Every quantity we hold stays below 2^63 whole units, the range of the API server's int64
// fast path; anything larger in a pod's requests is a mistake, not a gang.
const absl::int128 kMaxNanos = absl::MakeInt128(0, uint64_t{1} << 63) * kNanosPerUnit;

// a * b for 0 <= a, b, or false when the product passes kMaxNanos.
bool MultiplyWithinRange(absl::int128 a, absl::int128 b, absl::int128& product) {
  if (b != 0 && a > kMaxNanos / b) return false;
  product = a * b;
  return true;
}

// What a suffix multiplies by: 1024^binary_power * 10^decimal_power.
struct Scale {
  int binary_power = 0;
  int decimal_power = 0;
};

bool SuffixScale(absl::string_view suffix, Scale& scale) {
  static constexpr std::array<std::pair<absl::string_view, int>, 6> kBinary = {
      {{"Ki", 1}, {"Mi", 2}, {"Gi", 3}, {"Ti", 4}, {"Pi", 5}, {"Ei", 6}}};
  static constexpr std::array<std::pair<absl::string_view, int>, 10> kDecimal = {
      {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12},
       {"P", 15}, {"E", 18}}};
  for (const auto& [name, power] : kBinary) {
    if (suffix == name) {
      scale = {power, 0};
      return true;
    }
  }
  for (const auto& [name, power] : kDecimal) {
    if (suffix == name) {
      scale = {0, power};
      return true;
    }
  }
  // Decimal exponent: e3, E-2.
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    absl::string_view digits = suffix.substr(1);
    bool negative = false;
    if (digits[0] == '+' || digits[0] == '-') {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 2) return false;
    int power = 0;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      power = power * 10 + (c - '0');
    }
    scale = {0, negative ? -power : power};
    return true;
  }
  return false;
}

std::string Int128ToString(absl::int128 value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

absl::StatusOr<Quantity> Quantity::Parse(absl::string_view text) {
  const absl::string_view original = text;
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity \"", original,
                     "\" must match the regular expression "
                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  };
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  size_t end = 0;
  while (end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
    ++end;
  }
  absl::string_view number = text.substr(0, end);
  if (number.empty() || number == "." || number.find('.') != number.rfind('.')) return invalid();
  Scale scale;
  if (!SuffixScale(text.substr(end), scale)) return invalid();

  // Digits as an integer plus the count of fractional digits: 1.25 -> 125, 2.
  absl::int128 mantissa = 0;
  int fraction_digits = 0;
  bool in_fraction = false;
  for (char c : number) {
    if (c == '.') {
      in_fraction = true;
      continue;
    }
    if (mantissa > Pow(10, 30)) return invalid();
    mantissa = mantissa * 10 + (c - '0');
    if (in_fraction) ++fraction_digits;
  }
  while (fraction_digits > 0 && mantissa % 10 == 0) {
    mantissa /= 10;
    --fraction_digits;
  }
  auto out_of_range = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity \"", original, "\" is out of range (at most 2^63 units)"));
  };
  // nanos = mantissa * 1024^b * 10^(9 + d - fraction_digits), rounded up the way the API server
  // rounds sub-nano precision.
  absl::int128 scaled = mantissa;
  for (int i = 0; i < scale.binary_power; ++i) {
    if (!MultiplyWithinRange(scaled, 1024, scaled)) return out_of_range();
  }
  const int power = 9 + scale.decimal_power - fraction_digits;
  absl::int128 nanos = 0;
  if (power >= 0) {
    for (int i = 0; i < power && scaled != 0; ++i) {
      if (!MultiplyWithinRange(scaled, 10, scaled)) return out_of_range();
    }
    nanos = scaled;
  } else if (-power > 36) {
    nanos = scaled == 0 ? 0 : 1;  // below one nano-unit: rounds up to it
  } else {
    const absl::int128 divisor = Pow(10, -power);
    nanos = (scaled + divisor - 1) / divisor;
  }
  if (nanos > kMaxNanos) return out_of_range();
  return Quantity(negative ? -nanos : nanos);
}

std::string Quantity::ToString() const {
  if (nanos_ % kNanosPerUnit == 0) return Int128ToString(nanos_ / kNanosPerUnit);
  if (nanos_ % 1'000'000 == 0) return Int128ToString(nanos_ / 1'000'000) + "m";
  return Int128ToString(nanos_) + "n";
}

absl::StatusOr<ResourceList> ParseResourceList(const std::map<std::string, std::string>& raw) {
  ResourceList list;
  for (const auto& [name, text] : raw) {
    absl::StatusOr<Quantity> quantity = Quantity::Parse(text);
    if (!quantity.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", quantity.status().message()));
    }
    if (*quantity < Quantity()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": quantity \"", text,
                                                     "\" must not be negative"));
    }
    list[name] = *quantity;
  }
  return list;
}

}  // namespace kubedl::kube
