// Peak heap bytes one Review() call allocates, against the size of the request body: the webhook
// runs under a memory limit, and one large job must not take it down for every submission.
// Global operator new/delete are replaced in this binary only, to count live bytes exactly (the
// machine-wide RSS is measured by the integration test; this one is deterministic).
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "kubedl/api/json.h"
#include "services/webhook/admission_reviewer.h"

namespace {

std::atomic<long long> live_bytes{0};
std::atomic<long long> peak_bytes{0};

void* Track(std::size_t size) {
  // A header keeps each block's size for delete without sized-deallocation support.
  void* block = std::malloc(size + sizeof(std::max_align_t));
  if (block == nullptr) throw std::bad_alloc();
  *static_cast<std::size_t*>(block) = size;
  long long now = live_bytes.fetch_add(static_cast<long long>(size)) + static_cast<long long>(size);
  long long peak = peak_bytes.load();
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
  }
  return static_cast<char*>(block) + sizeof(std::max_align_t);
}

void Untrack(void* p) {
  if (p == nullptr) return;
  void* block = static_cast<char*>(p) - sizeof(std::max_align_t);
  live_bytes.fetch_sub(static_cast<long long>(*static_cast<std::size_t*>(block)));
  std::free(block);
}

}  // namespace

void* operator new(std::size_t size) { return Track(size); }
void* operator new[](std::size_t size) { return Track(size); }
void operator delete(void* p) noexcept { Untrack(p); }
void operator delete[](void* p) noexcept { Untrack(p); }
void operator delete(void* p, std::size_t) noexcept { Untrack(p); }
void operator delete[](void* p, std::size_t) noexcept { Untrack(p); }

namespace kubedl::webhook {
namespace {

using api::Json;

// The heap the call needs beyond what was live before it (the body itself is the caller's).
long long PeakBytesOf(WebhookType type, const std::string& body) {
  long long before = live_bytes.load();
  peak_bytes.store(before);
  ReviewOutcome out = Review(type, api::Describe(api::JobKind::kTFJob), body);
  EXPECT_EQ(out.http_status, 200) << out.body.substr(0, 300);
  return peak_bytes.load() - before;
}

Json Container(const std::string& name, int envs) {
  Json env = Json::array();
  for (int i = 0; i < envs; ++i) {
    env.push_back({{"name", "VAR_" + std::to_string(i)}, {"value", "value-" + std::to_string(i)}});
  }
  return {{"name", name}, {"image", "registry.local/ml/tf:2.15"}, {"env", env}};
}

std::string Review(const Json& job) {
  Json review = {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"},
                 {"request", {{"uid", "u-1"}, {"operation", "CREATE"}, {"object", job}}}};
  return review.dump();
}

Json TfJob(Json worker_containers, Json annotations = Json::object()) {
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "TFJob"},
          {"metadata", {{"name", "big"}, {"namespace", "ns"}, {"annotations", annotations}}},
          {"spec",
           {{"tfReplicaSpecs",
             {{"Worker",
               {{"replicas", 4},
                {"template", {{"spec", {{"containers", worker_containers}}}}}}}}}}}};
}

struct Shape {
  const char* name;
  std::string body;
};

std::vector<Shape> LargeJobs() {
  std::vector<Shape> shapes;
  shapes.push_back({"many env vars", Review(TfJob(Json::array({Container("tensorflow", 30000)})))});
  Json containers = Json::array();
  for (int i = 0; i < 300; ++i) containers.push_back(Container("c" + std::to_string(i), 100));
  shapes.push_back({"many containers", Review(TfJob(containers))});
  // The API server writes a custom resource's keys in alphabetical order: "env" comes before
  // "image" and "name", so a large value arrives before its siblings.
  shapes.push_back({"sorted keys, many envs",
                    nlohmann::json::parse(Review(TfJob(Json::array({Container("tensorflow", 30000)}))))
                        .dump()});
  // "worker" becomes "Worker": the patch carries the whole template.
  Json lower = TfJob(Json::array({Container("tensorflow", 30000)}));
  lower["spec"]["tfReplicaSpecs"] = {{"worker", lower["spec"]["tfReplicaSpecs"]["Worker"]}};
  shapes.push_back({"renamed replica type", Review(lower)});
  shapes.push_back({"one large annotation",
                    Review(TfJob(Json::array({Container("tensorflow", 1)}),
                                 {{"notes", std::string(1400000, 'x')}}))});
  return shapes;
}

// Every shape's peak heap, printed, and at most kMaxFactor times its body.
void ExpectEveryShapeWithinTheFactor(WebhookType type, const char* label) {
  constexpr double kMaxFactor = 10.0;
  for (const Shape& shape : LargeJobs()) {
    long long peak = PeakBytesOf(type, shape.body);
    double factor = static_cast<double>(peak) / static_cast<double>(shape.body.size());
    std::printf("%-8s %-22s body %8zu B  peak heap %10lld B  %.1fx\n", label, shape.name,
                shape.body.size(), peak, factor);
    EXPECT_LE(factor, kMaxFactor) << label << " " << shape.name;
  }
}

TEST(ReviewMemoryTest, MutatingALargeJobNeedsAtMostTenTimesItsBody) {
  ExpectEveryShapeWithinTheFactor(WebhookType::kMutate, "mutate");
}

TEST(ReviewMemoryTest, ValidatingALargeJobNeedsAtMostTenTimesItsBody) {
  ExpectEveryShapeWithinTheFactor(WebhookType::kValidate, "validate");
}

}  // namespace
}  // namespace kubedl::webhook
