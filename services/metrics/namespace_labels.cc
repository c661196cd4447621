#include "services/metrics/namespace_labels.h"

#include "glog/logging.h"

namespace kubedl::metrics {

const std::string& NamespaceLabels::Acquire(const std::string& ns) {
  auto [it, inserted] = namespaces_.try_emplace(ns, Entry{.own_label = false, .references = 0});
  if (inserted) {
    it->second.own_label = own_labels_ < max_namespaces_;
    ++(it->second.own_label ? own_labels_ : other_namespaces_);
  }
  ++it->second.references;
  return it->second.own_label ? it->first : other_;
}

const std::string& NamespaceLabels::LabelOf(const std::string& ns) const {
  auto it = namespaces_.find(ns);
  CHECK(it != namespaces_.end()) << "namespace " << ns << " is not referenced";
  return it->second.own_label ? it->first : other_;
}

void NamespaceLabels::Release(const std::string& ns) {
  auto it = namespaces_.find(ns);
  CHECK(it != namespaces_.end()) << "namespace " << ns << " released more often than acquired";
  if (--it->second.references > 0) return;
  const bool own_label = it->second.own_label;
  if (own_label) {
    --own_labels_;
    on_unused_(ns);
  } else if (--other_namespaces_ == 0) {
    on_unused_(other_);
  }
  namespaces_.erase(it);
}

}  // namespace kubedl::metrics
