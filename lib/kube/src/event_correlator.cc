#include "kubedl/kube/event_correlator.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kubedl::kube {

CorrelatedEvent EventCorrelator::Correlate(const EventSubject& subject, absl::string_view type,
                                           absl::string_view reason, absl::string_view message,
                                           absl::Time now) {
  // \x1f cannot occur in names, kinds or reasons, so no two subjects share a key.
  std::string similar_key =
      absl::StrCat(subject.namespace_, "\x1f", subject.uid, "\x1f", subject.kind, "\x1f",
                   subject.api_version, "\x1f", subject.name, "\x1f", type, "\x1f", reason);
  auto it = similar_.find(similar_key);
  if (it != similar_.end() && now - it->second.last_seen > options_.window) {
    similar_.erase(it);
    it = similar_.end();
  }
  if (it == similar_.end()) {
    if (similar_.size() >= options_.cache_limit) Forget(now);
    it = similar_.emplace(similar_key, Similar{now, {}}).first;
  }
  Similar& similar = it->second;
  similar.last_seen = now;
  // Once max_similar different messages are seen, every one is combined, a repeated one too.
  if (similar.messages.size() < options_.max_similar) similar.messages.emplace(message);
  if (similar.messages.size() < options_.max_similar) {
    return {absl::StrCat(similar_key, "\x1f", message), std::string(message), similar_key, false};
  }
  return {similar_key, absl::StrCat(kCombinedEventPrefix, message), similar_key, true};
}

// Drops the entries not seen for longest: those past their window first, then the older half.
void EventCorrelator::Forget(absl::Time now) {
  absl::erase_if(similar_,
                 [&](const auto& entry) { return now - entry.second.last_seen > options_.window; });
  if (similar_.size() < options_.cache_limit) return;
  std::vector<absl::Time> seen;
  seen.reserve(similar_.size());
  for (const auto& [key, similar] : similar_) seen.push_back(similar.last_seen);
  auto middle = seen.begin() + static_cast<std::ptrdiff_t>(seen.size() / 2);
  std::nth_element(seen.begin(), middle, seen.end());
  const absl::Time cut = *middle;
  absl::erase_if(similar_, [&](const auto& entry) { return entry.second.last_seen <= cut; });
}

}  // namespace kubedl::kube
