#pragma once

// Informer: list, then watch, keeping an in-memory cache of one resource up to date and telling
// handlers about every change. Relists after 410 Gone (etcd compaction), resumes watches from
// the last resourceVersion after a normal close, reconnects with backoff when the server goes
// away, and can resync periodically.
//
// Objects are cached compactly: the (transformed) object is kept as MessagePack bytes and
// decoded on read, so a cached pod costs about its serialized size, not a JSON tree.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "kubedl/kube/label_selector.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::kube {

// Read side of an informer's cache. Reads decode a copy; they never block the informer long.
class ObjectCache {
 public:
  virtual ~ObjectCache() = default;
  virtual std::optional<Object> Get(const std::string& ns, const std::string& name) const = 0;
  // Objects in `ns` ("" = all namespaces) whose labels match `selector`.
  virtual std::vector<Object> List(const std::string& ns,
                                   const LabelSelector& selector = {}) const = 0;
  // Objects whose index `index_name` has `value`. Built-in index: kIndexControllerUid.
  virtual std::vector<Object> ByIndex(const std::string& index_name,
                                      const std::string& value) const = 0;
  // key ("ns/name") -> resourceVersion of every cached object (cheap; no decoding).
  virtual std::vector<std::pair<std::string, std::string>> KeysAndVersions() const = 0;
  virtual size_t Size() const = 0;
};

inline constexpr char kIndexControllerUid[] = "controller-uid";

// Handlers run on the informer's thread, one call at a time, after the cache is updated.
struct EventHandler {
  std::function<void(const Object&)> on_add;
  std::function<void(const Object& old_obj, const Object& new_obj)> on_update;
  // An update, for a handler that needs only the new object. Prefer it to on_update: while no
  // handler has on_update, the cache does not decode an object's previous version on every
  // change (under a burst of pod updates that decoding was a twentieth of a reconciler's CPU).
  std::function<void(const Object& new_obj)> on_modified;
  std::function<void(const Object&)> on_delete;  // the last known state
};

struct InformerOptions {
  ResourceRef resource;
  std::string namespace_name;       // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  // Applied to every object before it is cached or handed to handlers (e.g. DropManagedFields).
  std::function<void(Object&)> transform;
  // Top-level fields of the objects that watch events never build (e.g. a pod's "spec", which
  // a pod's TF_CONFIG can make hundreds of kilobytes): cheaper than dropping them in
  // `transform`. Objects from the initial list still carry them (drop them in `transform` too).
  std::vector<std::string> skip_fields;
  // Extra indexes: name -> values of an object.
  std::vector<std::pair<std::string, std::function<std::vector<std::string>(const Object&)>>>
      indexers;
  absl::Duration resync_period = absl::ZeroDuration();  // zero: no resync
  int64_t page_size = 500;
  // Watches ask the server to end after a random time in [min, 2*min) like client-go.
  absl::Duration watch_timeout = absl::Minutes(5);
  // A watch with no bytes (not even bookmarks) for this long is dropped and re-opened.
  absl::Duration idle_timeout = absl::Minutes(11);
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
};

class Informer : public ObjectCache {
 public:
  // Add handlers before Start(); they see every object from the first list as an add.
  virtual void AddEventHandler(EventHandler handler) = 0;
  virtual void Start() = 0;
  // Stops the watch and joins the informer's threads. Idempotent.
  virtual void Stop() = 0;
  // True once the first full list is in the cache.
  virtual bool HasSynced() const = 0;
  virtual bool WaitForSync(absl::Duration timeout) const = 0;
  // The resourceVersion the cache reflects.
  virtual std::string LastResourceVersion() const = 0;
  // How many times the informer had to relist (after 410 and at start). For tests and metrics.
  virtual int64_t ListCount() const = 0;
};

std::unique_ptr<Informer> NewInformer(Client& client, InformerOptions options);

}  // namespace kubedl::kube
