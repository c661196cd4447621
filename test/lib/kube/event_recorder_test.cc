// The recorder's queue against a client whose writes can be held back: what waits is counted,
// and a full queue combines rather than drops. The API server's side is in
// test/integration/kube/extras_test.cc.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/rest_client.h"

namespace kubedl::kube {
namespace {

// Records the Events written; Create waits while `held`.
class EventSinkClient final : public Client {
 public:
  absl::StatusOr<Object> Create(const ResourceRef&, const std::string&,
                                const Object& obj) override {
    std::unique_lock lock(mu_);
    ++arrived_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    created_.push_back(obj);
    return obj;
  }
  absl::StatusOr<Object> Patch(const ResourceRef&, const std::string&, const std::string& name,
                               PatchType, const Object& patch, const PatchOptions&) override {
    std::lock_guard lock(mu_);
    patched_.push_back({{"name", name}, {"patch", patch}});
    return patch;
  }
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  void AwaitArrivals(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return arrived_ >= n; });
  }
  std::vector<Object> created() {
    std::lock_guard lock(mu_);
    return created_;
  }
  std::vector<Object> patched() {
    std::lock_guard lock(mu_);
    return patched_;
  }

  absl::StatusOr<Object> Get(const ResourceRef&, const std::string&, const std::string&) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<ObjectList> List(const ResourceRef&, const std::string&,
                                  const ListOptions&) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<Object> Update(const ResourceRef&, const std::string&, const Object&) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<Object> UpdateStatus(const ResourceRef&, const std::string&,
                                      const Object&) override {
    return absl::UnimplementedError("");
  }
  absl::Status Delete(const ResourceRef&, const std::string&, const std::string&,
                      const DeleteOptions&) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const ResourceRef&, const std::string&,
                                                     const WatchOptions&) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<Object> GetPath(const std::string&) override {
    return absl::UnimplementedError("");
  }
  const std::string& DefaultNamespace() const override { return namespace_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  int arrived_ = 0;
  std::vector<Object> created_;
  std::vector<Object> patched_;
  std::string namespace_ = "default";
};

Object Job(const std::string& name) {
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "TFJob"},
          {"metadata", {{"name", name}, {"namespace", "team-a"}, {"uid", "uid-" + name}}}};
}

const Object* Find(const std::vector<Object>& events, const std::string& message) {
  for (const Object& e : events) {
    if (e["message"] == message) return &e;
  }
  return nullptr;
}

// Keeps the writer busy with one Event, so that what is recorded next waits in the queue.
void HoldTheWriter(EventSinkClient& client, EventRecorder& recorder) {
  client.Hold();
  recorder.Record(Job("first"), "Normal", "Created", "holds the writer");
  client.AwaitArrivals(1);
}

TEST(EventRecorderTest, OccurrencesRecordedWhileTheirEventWaitsAreCountedIntoIt) {
  EventSinkClient client;
  auto recorder = NewEventRecorder(client, {.component = "test"});
  HoldTheWriter(client, *recorder);
  for (int i = 0; i < 5; ++i) recorder->Record(Job("a"), "Normal", "Restarting", "again");
  client.Release();
  recorder->Flush();
  const std::vector<Object> created = client.created();
  ASSERT_EQ(created.size(), 2u);
  const Object* again = Find(created, "again");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ((*again)["count"], 5);
  EXPECT_EQ((*again)["involvedObject"]["name"], "a");
  EXPECT_EQ((*again)["involvedObject"]["uid"], "uid-a");

  // Written once, a further occurrence bumps the count of the Event written.
  recorder->Record(Job("a"), "Normal", "Restarting", "again");
  recorder->Flush();
  ASSERT_EQ(client.patched().size(), 1u);
  EXPECT_EQ(client.patched()[0]["patch"]["count"], 6);
  EXPECT_EQ(client.patched()[0]["name"], (*again)["metadata"]["name"]);
}

// Waiting Events recorded in a row for one object, type and reason share what they have in
// common; each must still be written with its own object, resourceVersion, type and reason.
TEST(EventRecorderTest, EventsWaitingInARowAreWrittenWithTheirOwnObjectTypeAndReason) {
  EventSinkClient client;
  auto recorder = NewEventRecorder(client, {.component = "test"});
  HoldTheWriter(client, *recorder);
  Object a_later = Job("a");
  a_later["metadata"]["resourceVersion"] = "8";
  struct Recorded {
    Object object;
    std::string type, reason, message;
  };
  const std::vector<Recorded> recorded = {
      {Job("a"), "Normal", "SuccessfulCreatePod", "Created pod: a-0"},
      {Job("a"), "Normal", "SuccessfulCreatePod", "Created pod: a-1"},
      {Job("a"), "Normal", "SuccessfulCreateService", "Created service: a-0"},
      {Job("b"), "Normal", "SuccessfulCreateService", "Created service: b-0"},
      {Job("a"), "Warning", "SuccessfulCreateService", "Created service: a-1"},
      {a_later, "Warning", "SuccessfulCreateService", "Created service: a-2"},
  };
  for (const Recorded& r : recorded) recorder->Record(r.object, r.type, r.reason, r.message);
  client.Release();
  recorder->Flush();
  const std::vector<Object> created = client.created();
  ASSERT_EQ(created.size(), recorded.size() + 1);
  for (const Recorded& r : recorded) {
    const Object* e = Find(created, r.message);
    ASSERT_NE(e, nullptr) << r.message;
    EXPECT_EQ((*e)["type"], r.type) << r.message;
    EXPECT_EQ((*e)["reason"], r.reason) << r.message;
    EXPECT_EQ((*e)["involvedObject"]["name"], r.object["metadata"]["name"]) << r.message;
    EXPECT_EQ((*e)["involvedObject"]["uid"], r.object["metadata"]["uid"]) << r.message;
    EXPECT_EQ((*e)["involvedObject"]["resourceVersion"],
              r.object["metadata"].value("resourceVersion", ""))
        << r.message;
  }
}

TEST(EventRecorderTest, AFullQueueCombinesEventsPerObjectAndDropsOnlyBeyondTwiceItsLimit) {
  EventSinkClient client;
  auto recorder = NewEventRecorder(client, {.component = "test", .queue_limit = 2});
  HoldTheWriter(client, *recorder);
  recorder->Record(Job("a"), "Normal", "SuccessfulCreatePod", "Created pod: a-0");
  recorder->Record(Job("b"), "Normal", "SuccessfulCreatePod", "Created pod: b-0");
  // Full: a's further pods go into one combined Event, as do b's.
  for (int i = 1; i < 4; ++i) {
    recorder->Record(Job("a"), "Normal", "SuccessfulCreatePod", absl::StrCat("Created pod: a-", i));
  }
  recorder->Record(Job("b"), "Normal", "SuccessfulCreatePod", "Created pod: b-1");
  // Four wait now, twice the limit: c's is dropped.
  recorder->Record(Job("c"), "Normal", "SuccessfulCreatePod", "Created pod: c-0");
  client.Release();
  recorder->Flush();
  const std::vector<Object> created = client.created();
  ASSERT_EQ(created.size(), 5u);
  const Object* a = Find(created, "(combined from similar events): Created pod: a-3");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["count"], 3);
  const Object* b = Find(created, "(combined from similar events): Created pod: b-1");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ((*b)["count"], 1);
  EXPECT_NE(Find(created, "Created pod: a-0"), nullptr);
  EXPECT_NE(Find(created, "Created pod: b-0"), nullptr);
  EXPECT_EQ(Find(created, "Created pod: c-0"), nullptr);
}

}  // namespace
}  // namespace kubedl::kube
