#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kubedl/kube/discovery.h"
#include "kubedl/kube/errors.h"

namespace kubedl::kube {
namespace {

struct GroupVersionResources {
  absl::Time fetched;
  bool served = false;
  std::map<std::string, ResourceRef> by_kind;
};

class DiscoveryImpl final : public Discovery {
 public:
  DiscoveryImpl(Client& client, absl::Duration ttl) : client_(client), ttl_(ttl) {}

  absl::StatusOr<bool> IsServed(const std::string& group, const std::string& version,
                                const std::string& kind) override {
    auto ref = ResourceFor(group, version, kind);
    if (ref.ok()) return true;
    if (ref.status().code() == absl::StatusCode::kNotFound) return false;
    return ref.status();
  }

  absl::StatusOr<ResourceRef> ResourceFor(const std::string& group, const std::string& version,
                                          const std::string& kind) override {
    std::string gv = group.empty() ? version : absl::StrCat(group, "/", version);
    std::lock_guard lock(mu_);  // one fetch at a time; cache hits are cheap
    auto it = cache_.find(gv);
    if (it == cache_.end() || absl::Now() - it->second.fetched > ttl_) {
      auto fetched = Fetch(group, version);
      if (!fetched.ok()) return fetched.status();
      it = cache_.insert_or_assign(gv, std::move(*fetched)).first;
    }
    auto r = it->second.by_kind.find(kind);
    if (r == it->second.by_kind.end())
      return absl::NotFoundError(absl::StrCat(gv, " ", kind, " is not served"));
    return r->second;
  }

  void Invalidate() override {
    std::lock_guard lock(mu_);
    cache_.clear();
  }

 private:
  absl::StatusOr<GroupVersionResources> Fetch(const std::string& group,
                                              const std::string& version) {
    std::string path =
        group.empty() ? absl::StrCat("/api/", version) : absl::StrCat("/apis/", group, "/", version);
    GroupVersionResources out;
    out.fetched = absl::Now();
    auto doc = client_.GetPath(path);
    if (!doc.ok()) {
      if (kube::IsNotFound(doc.status())) return out;  // not served: cache the answer
      return doc.status();
    }
    out.served = true;
    auto resources = doc->find("resources");
    if (resources == doc->end() || !resources->is_array()) return out;
    for (const auto& r : *resources) {
      if (!r.is_object()) continue;
      std::string name = r.value("name", "");
      if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
      out.by_kind[r.value("kind", "")] = ResourceRef{group, version, name, r.value("namespaced", false)};
    }
    return out;
  }

  Client& client_;
  const absl::Duration ttl_;
  std::mutex mu_;
  std::map<std::string, GroupVersionResources> cache_;
};

}  // namespace

std::unique_ptr<Discovery> NewDiscovery(Client& client, absl::Duration ttl) {
  return std::make_unique<DiscoveryImpl>(client, ttl);
}

}  // namespace kubedl::kube
