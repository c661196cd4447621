#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace kubedl::metrics {

// Decides which `namespace` label value a namespace's jobs are counted under, and tells when a
// label has no job behind it any more so its series can go.
//
// Every job record and every live (snapshot) entry holds a reference to its namespace. While a
// namespace is referenced its label does not change: the first `max_namespaces` referenced
// namespaces get their own label, any other is counted under "_other" (which no namespace can be
// called, since it is not a DNS-1123 label), so the totals over all series stay exact. When the
// last reference to a namespace goes, `on_unused(label)` is called for its own label, or for
// "_other" when the last namespace counted there goes, and its slot is free for another namespace.
// Not thread-safe: the aggregator serialises calls.
class NamespaceLabels {
 public:
  static constexpr char kOther[] = "_other";

  NamespaceLabels(size_t max_namespaces, std::function<void(const std::string& label)> on_unused)
      : max_namespaces_(max_namespaces), on_unused_(std::move(on_unused)) {}

  // Adds a reference to `ns`; returns its label.
  const std::string& Acquire(const std::string& ns);
  // The label of a referenced namespace.
  const std::string& LabelOf(const std::string& ns) const;
  // Drops a reference taken by Acquire.
  void Release(const std::string& ns);

  // Namespaces with a label of their own now (at most max_namespaces).
  size_t OwnLabels() const { return own_labels_; }
  // Referenced namespaces counted under "_other" now.
  size_t OtherNamespaces() const { return other_namespaces_; }

 private:
  struct Entry {
    bool own_label;
    size_t references;
  };

  const size_t max_namespaces_;
  const std::function<void(const std::string&)> on_unused_;
  const std::string other_ = kOther;
  absl::flat_hash_map<std::string, Entry> namespaces_;
  size_t own_labels_ = 0;
  size_t other_namespaces_ = 0;
};

}  // namespace kubedl::metrics
