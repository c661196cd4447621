#include "kubedl/kube/event_correlator.h"

#include <algorithm>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace kubedl::kube {

CorrelatedEvent EventCorrelator::Correlate(const EventSubject& subject, absl::string_view type,
                                           absl::string_view reason, absl::string_view message,
                                           absl::Time now) {
  // absl::Hash hashes each string with its length, so no two subjects share their input.
  const EventKey similar_key =
      absl::HashOf(subject.namespace_, subject.uid, subject.kind, subject.api_version,
                   subject.name, type, reason);
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
  const uint64_t message_hash = absl::HashOf(message);
  if (similar.messages.size() < options_.max_similar) similar.messages.insert(message_hash);
  if (similar.messages.size() < options_.max_similar) {
    return {absl::HashOf(similar_key, message_hash), std::string(message), similar_key, false};
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
