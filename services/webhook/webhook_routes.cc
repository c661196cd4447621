#include "services/webhook/webhook_routes.h"

#include <malloc.h>

#include <array>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"

namespace kubedl::webhook {
namespace {

// Bodies from this size up are followed by malloc_trim (a trim costs about a millisecond).
constexpr size_t kReturnMemoryAfterBodyBytes = 256 << 10;
constexpr std::array<const char*, 5> kOperations = {"CREATE", "UPDATE", "DELETE", "CONNECT", ""};
constexpr std::array<const char*, 4> kResults = {"allowed", "patched", "denied", "bad_request"};

// Every series of one route, created up front so the hot path only increments.
struct RouteMetrics {
  std::array<std::array<prometheus::Counter*, kResults.size()>, kOperations.size()> requests{};
  prometheus::Histogram* latency = nullptr;

  prometheus::Counter& For(const std::string& operation, ReviewResult result) {
    size_t op = kOperations.size() - 1;
    for (size_t i = 0; i + 1 < kOperations.size(); ++i) {
      if (operation == kOperations[i]) op = i;
    }
    return *requests[op][static_cast<size_t>(result)];
  }
};

const char* TypeName(WebhookType type) {
  return type == WebhookType::kMutate ? "mutate" : "validate";
}

// The API server sends "application/json"; parameters (a charset) and case are allowed.
bool IsJson(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  return absl::EqualsIgnoreCase(
      absl::StripAsciiWhitespace(absl::string_view(media.data(), media.size())),
      "application/json");
}

}  // namespace

std::string WebhookPath(WebhookType type, const api::KindDescriptor& kind) {
  std::string group = absl::StrReplaceAll(std::string(kind.group), {{".", "-"}});
  return "/" + std::string(TypeName(type)) + "-" + group + "-" + std::string(kind.version) + "-" +
         absl::AsciiStrToLower(std::string(kind.name));
}

void AddAdmissionRoutes(common::HttpRoutes& routes, prometheus::Registry& registry,
                        const AdmissionOptions& options) {
  auto shared_options = std::make_shared<const AdmissionOptions>(options);
  auto& requests = prometheus::BuildCounter()
                       .Name("kubedl_webhook_requests_total")
                       .Help("Admission reviews answered, by kind, webhook, operation and result.")
                       .Register(registry);
  auto& latency = prometheus::BuildHistogram()
                      .Name("kubedl_webhook_request_duration_seconds")
                      .Help("Time to answer one admission review (parse, default, validate, "
                            "encode), by kind and webhook.")
                      .Register(registry);
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1};
  for (const api::KindDescriptor& kind : api::AllKinds()) {
    for (WebhookType type : {WebhookType::kMutate, WebhookType::kValidate}) {
      auto metrics = std::make_shared<RouteMetrics>();
      std::string kind_name(kind.name);
      for (size_t op = 0; op < kOperations.size(); ++op) {
        for (size_t r = 0; r < kResults.size(); ++r) {
          metrics->requests[op][r] = &requests.Add({{"kind", kind_name},
                                                    {"webhook", TypeName(type)},
                                                    {"operation", kOperations[op]},
                                                    {"result", kResults[r]}});
        }
      }
      metrics->latency =
          &latency.Add({{"kind", kind_name}, {"webhook", TypeName(type)}}, buckets);
      routes[WebhookPath(type, kind)] = [&kind, type, metrics,
                                         options = shared_options](const common::HttpRequest& req) {
        auto start = std::chrono::steady_clock::now();
        ReviewOutcome outcome;
        if (req.method != "POST") {
          outcome.http_status = 405;
          outcome.content_type = "text/plain; charset=utf-8";
          outcome.body = "admission reviews are POSTed\n";
          outcome.result = ReviewResult::kBadRequest;
        } else if (!IsJson(req.content_type)) {
          outcome.http_status = 415;
          outcome.content_type = "text/plain; charset=utf-8";
          outcome.body = absl::StrCat("admission reviews are application/json, not '",
                                      std::string(req.content_type.substr(0, 100)), "'\n");
          outcome.result = ReviewResult::kBadRequest;
        } else if (type == WebhookType::kMutate) {
          outcome = Review(type, kind, req.body, {}, options->max_json_depth);
        } else {
          // Held for the whole review: a refresh may swap the source's schema meanwhile.
          std::shared_ptr<const api::PodSchema> schema =
              options->pod_schema ? options->pod_schema() : nullptr;
          outcome = Review(type, kind, req.body,
                           {.max_replicas_per_type = options->max_replicas_per_type,
                            .max_replicas_per_job = options->max_replicas_per_job,
                            .pod_schema = schema.get()},
                           options->max_json_depth);
        }
        // The parsed job is freed by now, but into the allocator arena of this I/O thread, which
        // keeps it: the next large review on another thread would grow a second arena, and the
        // peak RSS would be their sum. Hand the pages back after a large review.
        if (req.body.size() >= kReturnMemoryAfterBodyBytes) malloc_trim(0);
        metrics->For(outcome.operation, outcome.result).Increment();
        metrics->latency->Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return common::HttpResponse{outcome.http_status, std::move(outcome.content_type),
                                    std::move(outcome.body)};
      };
    }
  }
}

}  // namespace kubedl::webhook
