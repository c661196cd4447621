#include "kubedl/api/pod_schema_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::api {

namespace {
constexpr char kDocumentPath[] = "/openapi/v3/api/v1";
}  // namespace

PodSchemaFetcher ApiServerPodSchemaFetcher(std::shared_ptr<kube::Client> client) {
  PodSchemaFetcher fetcher;
  fetcher.version = [client]() -> absl::StatusOr<std::string> {
    absl::StatusOr<kube::Object> index = client->GetPath("/openapi/v3");
    if (!index.ok()) return index.status();
    auto paths = index->find("paths");
    if (paths == index->end() || !paths->is_object()) return std::string();
    auto v1 = paths->find("api/v1");
    if (v1 == paths->end() || !v1->is_object()) return std::string();
    auto url = v1->find("serverRelativeURL");
    return url != v1->end() && url->is_string() ? url->get<std::string>() : std::string();
  };
  fetcher.document = [client](const std::string& version) -> absl::StatusOr<nlohmann::json> {
    return client->GetPath(version.empty() ? std::string(kDocumentPath) : version);
  };
  return fetcher;
}

PodSchemaSource::PodSchemaSource() : current_(PodSchema::BuiltIn()) {}

PodSchemaSource::PodSchemaSource(PodSchemaFetcher fetcher, Options options)
    : fetcher_(std::move(fetcher)), options_(options), current_(PodSchema::BuiltIn()) {
  absl::Status first = Refresh();
  if (!first.ok()) {
    LOG(WARNING) << "cannot read the Pod schema from the API server (" << first
                 << "): templates are checked against the built-in schema until a refresh "
                    "succeeds";
  }
  if (options_.refresh_interval > absl::ZeroDuration()) thread_ = std::thread([this] { Loop(); });
}

PodSchemaSource::~PodSchemaSource() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const PodSchema> PodSchemaSource::Current() const {
  absl::ReaderMutexLock lock(&mu_);
  return current_;
}

absl::Status PodSchemaSource::Refresh() {
  if (!fetcher_.document) return absl::FailedPreconditionError("no API server configured");
  absl::MutexLock refresh(&refresh_mu_);
  std::string version;
  if (fetcher_.version) {
    absl::StatusOr<std::string> v = fetcher_.version();
    if (v.ok()) version = *std::move(v);
  }
  if (served_ && !version.empty() && version == version_) return absl::OkStatus();
  absl::StatusOr<nlohmann::json> document = fetcher_.document(version);
  if (!document.ok()) return document.status();
  absl::StatusOr<std::shared_ptr<const PodSchema>> schema =
      PodSchema::FromOpenApiV3(*document, "openapi-v3");
  if (!schema.ok()) return schema.status();
  LOG(INFO) << "Pod schema read from the API server" << (version.empty() ? "" : " at ")
            << version << " (" << (*schema)->size() << " nodes)";
  {
    absl::MutexLock lock(&mu_);
    current_ = *std::move(schema);
  }
  version_ = std::move(version);
  served_ = true;
  return absl::OkStatus();
}

void PodSchemaSource::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.refresh_interval)) {
    absl::Status s = Refresh();
    if (!s.ok()) {
      LOG(WARNING) << "refreshing the Pod schema failed (" << s << "); keeping the "
                   << Current()->origin() << " one";
    }
  }
}

namespace {
std::unique_ptr<PodSchemaSource> BuiltInSchemaBecause(const absl::Status& why) {
  LOG(WARNING) << "cannot configure the API server client (" << why
               << "): templates are checked against the built-in Pod schema";
  return std::make_unique<PodSchemaSource>();
}
}  // namespace

std::unique_ptr<PodSchemaSource> NewApiServerPodSchemaSource(
    const absl::StatusOr<kube::Config>& config, absl::Duration refresh_interval) {
  if (!config.ok()) return BuiltInSchemaBecause(config.status());
  kube::Config schema_config = *config;
  schema_config.request_timeout = absl::Seconds(10);
  schema_config.max_connections = 2;
  absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::NewClient(schema_config);
  if (!client.ok()) return BuiltInSchemaBecause(client.status());
  return std::make_unique<PodSchemaSource>(
      ApiServerPodSchemaFetcher(std::shared_ptr<kube::Client>(*std::move(client))),
      PodSchemaSource::Options{.refresh_interval = refresh_interval});
}

}  // namespace kubedl::api
