#include <algorithm>
#include <atomic>
#include <deque>
#include <utility>

#include "absl/time/clock.h"
#include "glog/logging.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "kubedl/common/status_macros.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/ndjson.h"
#include "kubedl/kube/protobuf_codec.h"
#include "kubedl/kube/rate_limiter.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::kube {
namespace {

// Appends "?k=v" or "&k=v".
void AddQuery(std::string* target, absl::string_view key, absl::string_view value) {
  absl::StrAppend(target, target->find('?') == std::string::npos ? "?" : "&", key, "=",
                  UrlEncode(value));
}

const char* ContentType(PatchType type) {
  switch (type) {
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/json";
}

class WatchStreamImpl final : public WatchStream {
 public:
  WatchStreamImpl(std::unique_ptr<ResponseStream> stream, absl::Duration idle_timeout,
                  std::vector<std::string> skip_object_fields)
      : stream_(std::move(stream)), idle_timeout_(idle_timeout),
        skip_object_fields_(std::move(skip_object_fields)) {}

  absl::StatusOr<std::optional<WatchEvent>> Next() override {
    while (lines_.empty()) {
      std::string chunk;
      ASSIGN_OR_RETURN(bool more, stream_->ReadSome(&chunk, idle_timeout_));
      splitter_.Feed(chunk, [this](absl::string_view line) { lines_.emplace_back(line); });
      if (!more && lines_.empty()) {
        if (splitter_.pending() > 0)
          return absl::DataLossError("watch stream ended inside an event");
        return std::optional<WatchEvent>();
      }
    }
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    ASSIGN_OR_RETURN(WatchEvent event, ParseWatchEvent(line, skip_object_fields_));
    return std::optional<WatchEvent>(std::move(event));
  }

  void Cancel() override { stream_->Cancel(); }

 private:
  std::unique_ptr<ResponseStream> stream_;
  const absl::Duration idle_timeout_;
  const std::vector<std::string> skip_object_fields_;
  NdjsonSplitter splitter_;
  std::deque<std::string> lines_;
};

class ClientImpl final : public Client {
 public:
  ClientImpl(const Config& config, std::unique_ptr<HttpTransport> transport)
      : config_(config), transport_(std::move(transport)) {
    if (config.qps > 0) limiter_ = std::make_unique<TokenBucket>(config.qps, config.burst);
  }

  absl::StatusOr<Object> Get(const ResourceRef& ref, const std::string& ns,
                             const std::string& name) override {
    return Do("GET", ref.ObjectPath(ns, name), "", "");
  }

  absl::StatusOr<ObjectList> List(const ResourceRef& ref, const std::string& ns,
                                  const ListOptions& options) override {
    std::string target = ref.CollectionPath(ns);
    if (!options.label_selector.empty())
      AddQuery(&target, "labelSelector", options.label_selector);
    if (!options.field_selector.empty())
      AddQuery(&target, "fieldSelector", options.field_selector);
    if (options.limit > 0) AddQuery(&target, "limit", absl::StrCat(options.limit));
    if (!options.continue_token.empty()) AddQuery(&target, "continue", options.continue_token);
    if (!options.resource_version.empty())
      AddQuery(&target, "resourceVersion", options.resource_version);
    if (!options.resource_version_match.empty())
      AddQuery(&target, "resourceVersionMatch", options.resource_version_match);
    ASSIGN_OR_RETURN(Object body, Do("GET", target, "", ""));
    ObjectList list;
    if (auto items = body.find("items"); items != body.end() && items->is_array())
      list.items = std::move(*items);
    if (auto meta = body.find("metadata"); meta != body.end() && meta->is_object()) {
      list.resource_version = meta->value("resourceVersion", "");
      list.continue_token = meta->value("continue", "");
    }
    return list;
  }

  absl::StatusOr<Object> Create(const ResourceRef& ref, const std::string& ns,
                                const Object& obj) override {
    return Do("POST", ref.CollectionPath(ns), obj.dump(), "application/json");
  }

  // Core kinds go as protobuf, as client-go sends them, and the answer is asked for in protobuf
  // too, so the server encodes no JSON copy that nobody reads.
  absl::Status CreateStatusOnly(const ResourceRef& ref, const std::string& ns,
                                const Object& obj) override {
    if (config_.protobuf && ref.group.empty() && ref.version == "v1" &&
        !protobuf_refused_.load(std::memory_order_relaxed)) {
      absl::StatusOr<std::string> encoded = EncodeProtobuf(obj);
      if (encoded.ok()) {
        HttpRequest request{"POST", ref.CollectionPath(ns), *std::move(encoded),
                            kProtobufContentType, absl::ZeroDuration(),
                            absl::StrCat(kProtobufContentType, ", application/json")};
        absl::Status sent = Send(request).status();
        if (HttpCode(sent) != 415) return sent;
        // A server (or a proxy before it) that does not take protobuf: JSON from now on.
        if (!protobuf_refused_.exchange(true))
          LOG(WARNING) << "the API server refused protobuf (" << sent << "); sending JSON";
      } else {
        // Something the schema cannot carry: JSON keeps it, and the server judges it.
        VLOG(1) << "POST " << ref.resource << " as JSON: " << encoded.status();
      }
    }
    HttpRequest request{"POST", ref.CollectionPath(ns), obj.dump(), "application/json",
                        absl::ZeroDuration()};
    return Send(request).status();
  }

  absl::StatusOr<Object> Update(const ResourceRef& ref, const std::string& ns,
                                const Object& obj) override {
    return Do("PUT", ref.ObjectPath(ns, Name(obj)), obj.dump(), "application/json");
  }

  absl::StatusOr<Object> UpdateStatus(const ResourceRef& ref, const std::string& ns,
                                      const Object& obj) override {
    return Do("PUT", ref.ObjectPath(ns, Name(obj), "status"), obj.dump(), "application/json");
  }

  absl::StatusOr<Object> Patch(const ResourceRef& ref, const std::string& ns,
                               const std::string& name, PatchType type, const Object& patch,
                               const PatchOptions& options) override {
    std::string target = ref.ObjectPath(ns, name, options.subresource);
    if (type == PatchType::kApply && options.field_manager.empty())
      return absl::InvalidArgumentError("server-side apply needs a field manager");
    if (!options.field_manager.empty()) AddQuery(&target, "fieldManager", options.field_manager);
    if (options.force) AddQuery(&target, "force", "true");
    return Do("PATCH", target, patch.dump(), ContentType(type));
  }

  absl::Status Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                      const DeleteOptions& options) override {
    Object body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (!options.propagation_policy.empty())
      body["propagationPolicy"] = options.propagation_policy;
    if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
    if (!options.precondition_uid.empty())
      body["preconditions"]["uid"] = options.precondition_uid;
    if (!options.precondition_resource_version.empty())
      body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
    return Do("DELETE", ref.ObjectPath(ns, name), body.dump(), "application/json").status();
  }

  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const ResourceRef& ref,
                                                     const std::string& ns,
                                                     const WatchOptions& options) override {
    std::string target = ref.CollectionPath(ns);
    AddQuery(&target, "watch", "true");
    if (!options.resource_version.empty())
      AddQuery(&target, "resourceVersion", options.resource_version);
    if (!options.label_selector.empty())
      AddQuery(&target, "labelSelector", options.label_selector);
    if (!options.field_selector.empty())
      AddQuery(&target, "fieldSelector", options.field_selector);
    if (options.allow_bookmarks) AddQuery(&target, "allowWatchBookmarks", "true");
    if (options.timeout_seconds > 0)
      AddQuery(&target, "timeoutSeconds", absl::StrCat(options.timeout_seconds));
    if (limiter_) limiter_->Wait();
    HttpRequest request{"GET", target, "", "", config_.request_timeout};
    ASSIGN_OR_RETURN(std::unique_ptr<ResponseStream> stream, transport_->OpenStream(request));
    if (stream->status() != 200) {
      std::string body;
      for (int i = 0; i < 64; ++i) {  // an error body is small; bound the reads anyway
        auto more = stream->ReadSome(&body, config_.request_timeout);
        if (!more.ok() || !*more) break;
      }
      return StatusFromResponse(stream->status(), body);
    }
    return std::make_unique<WatchStreamImpl>(std::move(stream), options.idle_timeout,
                                             options.skip_object_fields);
  }

  absl::StatusOr<Object> GetPath(const std::string& path) override {
    return Do("GET", path, "", "");
  }

  const std::string& DefaultNamespace() const override { return config_.namespace_name; }

 private:
  // One request, and the object the server answers with.
  absl::StatusOr<Object> Do(const char* method, std::string target, std::string body,
                            const char* content_type) {
    HttpRequest request{method, std::move(target), std::move(body), content_type,
                        absl::ZeroDuration()};
    ASSIGN_OR_RETURN(std::string text, Send(request));
    if (text.empty()) return Object::object();
    Object parsed = Object::parse(text, nullptr, false);
    if (parsed.is_discarded())
      return absl::DataLossError(absl::StrCat(method, " ", request.target,
                                              ": the response is not JSON"));
    return parsed;
  }

  // One request; the body of its 2xx response. 429 (and 503 with Retry-After) are retried
  // after the server's Retry-After.
  absl::StatusOr<std::string> Send(const HttpRequest& request) {
    for (int attempt = 0;; ++attempt) {
      if (limiter_) limiter_->Wait();
      ASSIGN_OR_RETURN(HttpResponse response, transport_->RoundTrip(request));
      if (response.status >= 200 && response.status < 300) return std::move(response.body);
      bool retry = response.status == 429 ||
                   (response.status == 503 && !response.retry_after.empty());
      if (!retry || attempt >= config_.max_retries_on_429) {
        if (IsProtobufEnvelope(response.body)) {  // a Status, when protobuf was asked for
          absl::StatusOr<Object> decoded = DecodeProtobuf(response.body);
          if (decoded.ok()) return StatusFromResponse(response.status, decoded->dump());
        }
        return StatusFromResponse(response.status, response.body);
      }
      int seconds = 1;
      if (!absl::SimpleAtoi(response.retry_after, &seconds)) seconds = 1;
      absl::SleepFor(absl::Seconds(std::clamp(seconds, 0, 60)));
    }
  }

  const Config config_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<TokenBucket> limiter_;
  std::atomic<bool> protobuf_refused_{false};
};

}  // namespace

absl::StatusOr<ObjectList> ListAll(Client& client, const ResourceRef& ref, const std::string& ns,
                                   ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  for (int restarts = 0;; ++restarts) {
    ObjectList all;
    ListOptions page = options;
    page.continue_token.clear();
    absl::Status failed;
    while (true) {
      auto list = client.List(ref, ns, page);
      if (!list.ok()) {
        failed = list.status();
        break;
      }
      for (auto& item : list->items) all.items.push_back(std::move(item));
      all.resource_version = list->resource_version;
      if (list->continue_token.empty()) return all;
      page.continue_token = list->continue_token;
      page.resource_version.clear();  // the token carries the snapshot
      page.resource_version_match.clear();
    }
    // An expired continue token means the snapshot is gone: start over.
    if (!IsGone(failed) || page.continue_token.empty() || restarts >= 3) return failed;
  }
}

std::unique_ptr<Client> NewClient(const Config& config, std::unique_ptr<HttpTransport> transport) {
  return std::make_unique<ClientImpl>(config, std::move(transport));
}

absl::StatusOr<std::unique_ptr<Client>> NewClient(const Config& config) {
  ASSIGN_OR_RETURN(std::unique_ptr<HttpTransport> transport, NewHttpTransport(config));
  return NewClient(config, std::move(transport));
}

}  // namespace kubedl::kube
