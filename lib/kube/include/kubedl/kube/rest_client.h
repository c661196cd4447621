#pragma once

// The REST verbs on any group/version/resource. Objects are nlohmann::json; errors are
// absl::Status with the Kubernetes reason kept (see errors.h).
//
// `ns` is the namespace; pass "" for cluster-scoped resources, or for a list/watch across all
// namespaces. Thread-safe: share one Client between worker threads; requests run concurrently
// over the transport's connection pool.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/http_transport.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"
#include "kubedl/kube/watch.h"

namespace kubedl::kube {

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;               // page size; 0 = everything at once
  std::string continue_token;      // from the previous page
  std::string resource_version;    // "" = consistent read; "0" = any cached state
  std::string resource_version_match;  // "NotOlderThan" / "Exact" when resource_version is set
};

struct ObjectList {
  Object items = Object::array();
  std::string resource_version;    // of the list: watch from here
  std::string continue_token;      // "" on the last page
};

struct WatchOptions {
  std::string resource_version;    // events strictly after this one; "" = current state first
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  int timeout_seconds = 0;         // server-side end of the watch; 0 = the server's default
  // A stream with no bytes for this long is treated as dead (DeadlineExceeded from Next()).
  absl::Duration idle_timeout = absl::Minutes(11);
  // Top-level fields of each event's object that are skipped while parsing (never built).
  std::vector<std::string> skip_object_fields;
};

enum class PatchType {
  kJson,            // application/json-patch+json (RFC 6902)
  kMerge,           // application/merge-patch+json (RFC 7386)
  kStrategicMerge,  // built-in types only; CRDs answer 415
  kApply,           // server-side apply; needs PatchOptions::field_manager
};

struct PatchOptions {
  std::string field_manager;
  bool force = false;              // apply: take ownership of conflicting fields
  std::string subresource;         // e.g. "status"
};

struct DeleteOptions {
  std::string propagation_policy;  // "Foreground", "Background", "Orphan" or "" (default)
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
};

class Client {
 public:
  virtual ~Client() = default;

  virtual absl::StatusOr<Object> Get(const ResourceRef& ref, const std::string& ns,
                                     const std::string& name) = 0;
  // One page (or everything, when options.limit is 0).
  virtual absl::StatusOr<ObjectList> List(const ResourceRef& ref, const std::string& ns,
                                          const ListOptions& options = {}) = 0;
  virtual absl::StatusOr<Object> Create(const ResourceRef& ref, const std::string& ns,
                                        const Object& obj) = 0;
  // A create whose caller needs only the outcome: the server's copy of the object is not
  // parsed (for a pod, a few KB of JSON: under a burst of creates, parsing those copies was a
  // tenth of a reconciler's CPU).
  virtual absl::Status CreateStatusOnly(const ResourceRef& ref, const std::string& ns,
                                        const Object& obj) {
    return Create(ref, ns, obj).status();
  }
  // PUT of the whole object; metadata.resourceVersion makes it conditional (stale: Conflict).
  virtual absl::StatusOr<Object> Update(const ResourceRef& ref, const std::string& ns,
                                        const Object& obj) = 0;
  // PUT to the status subresource.
  virtual absl::StatusOr<Object> UpdateStatus(const ResourceRef& ref, const std::string& ns,
                                              const Object& obj) = 0;
  // `patch` is the body: a JSON Patch array, a merge patch, or the object to apply.
  virtual absl::StatusOr<Object> Patch(const ResourceRef& ref, const std::string& ns,
                                       const std::string& name, PatchType type,
                                       const Object& patch, const PatchOptions& options = {}) = 0;
  virtual absl::Status Delete(const ResourceRef& ref, const std::string& ns,
                              const std::string& name, const DeleteOptions& options = {}) = 0;
  virtual absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const ResourceRef& ref,
                                                             const std::string& ns,
                                                             const WatchOptions& options) = 0;
  // GET of any path (discovery documents, /version, ...).
  virtual absl::StatusOr<Object> GetPath(const std::string& path) = 0;

  // The namespace of the config's context (or the pod's), for callers that have no other.
  virtual const std::string& DefaultNamespace() const = 0;
};

// Pages through a whole list (options.limit per request, default 500), restarting from scratch
// if a continue token expires. Returns all items and the resourceVersion of the snapshot.
absl::StatusOr<ObjectList> ListAll(Client& client, const ResourceRef& ref, const std::string& ns,
                                   ListOptions options = {});

// A Client on the given transport.
std::unique_ptr<Client> NewClient(const Config& config, std::unique_ptr<HttpTransport> transport);
// A Client with the Beast/OpenSSL transport.
absl::StatusOr<std::unique_ptr<Client>> NewClient(const Config& config);

}  // namespace kubedl::kube
