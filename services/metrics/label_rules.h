#pragma once

#include <cstddef>
#include <string_view>

// Kubernetes' rules for the strings the metrics service keeps in memory or writes as label
// values. A report that breaks them is refused before anything is stored, so a caller cannot make
// a series (or a record) out of an arbitrary string.
namespace kubedl::metrics {

// Longest job or pod UID accepted. Kubernetes UIDs are 36-character UUIDs; the margin lets tests
// and other producers use their own short identities.
inline constexpr size_t kMaxUidLength = 128;
// Longest reconciler_id accepted (a pod name plus a pid and a start time fits easily).
inline constexpr size_t kMaxReconcilerIdLength = 253;

// Namespaces and object names follow api::IsDns1123Label and api::IsDns1123Subdomain.
// A job or pod UID: 1 to kMaxUidLength letters, digits, '-', '_', '.' or ':'.
bool IsObjectUid(std::string_view s);
// A reconciler_id: 1 to kMaxReconcilerIdLength visible ASCII characters (no space, no control).
bool IsReconcilerId(std::string_view s);

}  // namespace kubedl::metrics
