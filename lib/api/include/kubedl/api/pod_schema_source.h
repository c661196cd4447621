#pragma once
// Where the webhook (and the reconciler) get the Pod schema from: the API server's served
// OpenAPI v3 document of core/v1 (/openapi/v3/api/v1), read at start-up, refreshed on an
// interval, the last good one kept, PodSchema::BuiltIn() until one was read. Library
// kubedl_pod_schema_source (it needs lib/kube; kubedl_api does not).
//
//   auto client = kube::NewClient(config);
//   PodSchemaSource source(ApiServerPodSchemaFetcher(std::move(*client)), {absl::Minutes(10)});
//   std::shared_ptr<const PodSchema> schema = source.Current();   // any thread, cheap
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kubedl/api/pod_schema.h"

namespace kubedl::kube {
class Client;
struct Config;
}

namespace kubedl::api {

// How the served document is read (the API server in production, a fake in tests).
struct PodSchemaFetcher {
  // A token that changes whenever the document does (the API server lists a hashed URL per
  // group version under /openapi/v3); empty or an error: unknown, the document is read anyway.
  std::function<absl::StatusOr<std::string>()> version;
  // The document at that version (`version` may be empty).
  std::function<absl::StatusOr<nlohmann::json>(const std::string& version)> document;
};

// GET /openapi/v3 for the version (paths["api/v1"].serverRelativeURL), then that URL (or
// /openapi/v3/api/v1) for the document. Readable by every authenticated user (the built-in
// system:discovery ClusterRole grants the non-resource URLs /openapi/*).
PodSchemaFetcher ApiServerPodSchemaFetcher(std::shared_ptr<kube::Client> client);

class PodSchemaSource {
 public:
  struct Options {
    // How often the document is checked for a change; zero: read once, never refreshed.
    absl::Duration refresh_interval = absl::Minutes(10);
  };

  // Only the built-in schema (no API server).
  PodSchemaSource();
  // Reads the document now (synchronously; the built-in schema when that fails), then checks
  // for a change every refresh_interval on a background thread.
  PodSchemaSource(PodSchemaFetcher fetcher, Options options);
  ~PodSchemaSource();
  PodSchemaSource(const PodSchemaSource&) = delete;
  PodSchemaSource& operator=(const PodSchemaSource&) = delete;

  // The schema to check templates against; never null. Holding it keeps it alive across a
  // refresh.
  std::shared_ptr<const PodSchema> Current() const;

  // One refresh now: OK when the current schema is the served one (read now or unchanged);
  // the error otherwise (the last good schema stays).
  absl::Status Refresh();

 private:
  void Loop();

  PodSchemaFetcher fetcher_;
  Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PodSchema> current_ ABSL_GUARDED_BY(mu_);
  absl::Mutex refresh_mu_;  // one refresh at a time
  std::string version_ ABSL_GUARDED_BY(refresh_mu_);
  bool served_ ABSL_GUARDED_BY(refresh_mu_) = false;
  absl::Notification stop_;
  std::thread thread_;
};

// The source a service starts with: the served schema of the API server `config` describes
// (its own client: a 10 s timeout, since start-up waits for the first read, and 2
// connections), or the built-in one when `config` is an error or no client can be made.
std::unique_ptr<PodSchemaSource> NewApiServerPodSchemaSource(
    const absl::StatusOr<kube::Config>& config, absl::Duration refresh_interval);

}  // namespace kubedl::api
