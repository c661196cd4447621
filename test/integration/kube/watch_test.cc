// Watches against the real API server: event order, resume after the server closes the
// stream, and 410 Gone after etcd compaction (relist, no event lost).

#include <cstdio>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "etcd.h"
#include "gtest/gtest.h"
#include "kubedl/kube/errors.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/testing/cluster.h"

namespace kubedl::kube {
namespace testing_etcd {

absl::StatusOr<int64_t> CompactNow() {
  std::string port = kubedl::testing::ClusterEnv("ETCD_PORT");
  if (port.empty()) return absl::FailedPreconditionError("no ETCD_PORT in the cluster env");
  auto run = [](const std::string& cmd) -> absl::StatusOr<std::string> {
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return absl::InternalError("popen failed");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) return absl::UnavailableError(absl::StrCat(cmd, " failed: ", out));
    return out;
  };
  std::string base = absl::StrCat("curl -sf -X POST http://127.0.0.1:", port, "/v3/kv/");
  auto range = run(base + "range -d '{\"key\":\"AA==\"}'");
  if (!range.ok()) return range.status();
  Object header = Object::parse(*range, nullptr, false);
  if (!header.is_object() || !header.contains("header"))
    return absl::DataLossError(absl::StrCat("unexpected etcd answer: ", *range));
  std::string rev = header["header"].value("revision", "");
  auto compact = run(base + "compaction -d '{\"revision\":\"" + rev + "\",\"physical\":true}'");
  if (!compact.ok()) return compact.status();
  return std::stoll(rev);
}

}  // namespace testing_etcd

namespace {

using testing::ClusterTest;
using testing::Eventually;

class WatchTest : public ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "kube-watch"; }

  Object ConfigMap(const std::string& name, const std::string& value) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", {{"t", "w"}}}}}, {"data", {{"v", value}}}};
  }
  Object Event(const std::string& name, const std::string& message) {
    return {{"apiVersion", "v1"}, {"kind", "Event"},
            {"metadata", {{"name", name}}},
            {"involvedObject", {{"kind", "Pod"}, {"name", "x"}, {"namespace", ns()}}},
            {"reason", "Test"}, {"message", message}, {"type", "Normal"}};
  }
};

TEST_F(WatchTest, EventsArriveInOrderAndResumeFromLastResourceVersionAfterServerClose) {
  const auto& cms = resources::ConfigMaps();
  auto list = client().List(cms, ns());
  ASSERT_TRUE(list.ok()) << list.status();
  std::string rv = list->resource_version;

  auto created = client().Create(cms, ns(), ConfigMap("a", "1"));
  ASSERT_TRUE(created.ok());
  Object modified = *created;
  modified["data"]["v"] = "2";
  ASSERT_TRUE(client().Update(cms, ns(), modified).ok());
  ASSERT_TRUE(client().Delete(cms, ns(), "a").ok());

  WatchOptions options;
  options.resource_version = rv;
  options.label_selector = "t=w";  // not kube-root-ca.crt, which the controller-manager adds
  options.timeout_seconds = 2;  // the server closes the stream after 2 s
  auto stream = client().Watch(cms, ns(), options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::vector<WatchEventType> types;
  std::string last_rv = rv;
  while (true) {
    auto event = (*stream)->Next();
    ASSERT_TRUE(event.ok()) << event.status();
    if (!event->has_value()) break;  // normal close
    if ((*event)->type == WatchEventType::kBookmark) {
      last_rv = ResourceVersion((*event)->object);
      continue;
    }
    types.push_back((*event)->type);
    last_rv = ResourceVersion((*event)->object);
  }
  EXPECT_EQ(types, (std::vector<WatchEventType>{WatchEventType::kAdded, WatchEventType::kModified,
                                                 WatchEventType::kDeleted}));

  // Resume from the last resourceVersion: only what happened since, no replay.
  ASSERT_TRUE(client().Create(cms, ns(), ConfigMap("b", "1")).ok());
  options.resource_version = last_rv;
  auto resumed = client().Watch(cms, ns(), options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  std::vector<std::string> names;
  while (true) {
    auto event = (*resumed)->Next();
    ASSERT_TRUE(event.ok()) << event.status();
    if (!event->has_value()) break;
    if ((*event)->type != WatchEventType::kBookmark) names.push_back(Name((*event)->object));
  }
  EXPECT_EQ(names, std::vector<std::string>{"b"});
}

TEST_F(WatchTest, CancelStopsABlockedWatchPromptly) {
  WatchOptions options;
  auto list = client().List(resources::ConfigMaps(), ns());
  ASSERT_TRUE(list.ok());
  options.resource_version = list->resource_version;
  auto stream = client().Watch(resources::ConfigMaps(), ns(), options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(200));
    (*stream)->Cancel();
  });
  absl::Time start = absl::Now();
  // The namespace may still get its kube-root-ca.crt ConfigMap (made by the controller manager
  // after the namespace): events before the cancel are fine, the stream must then end.
  auto event = (*stream)->Next();
  while (event.ok() && event->has_value() && absl::Now() - start < absl::Seconds(5)) {
    event = (*stream)->Next();
  }
  canceller.join();
  EXPECT_EQ(event.status().code(), absl::StatusCode::kCancelled) << event.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// Events are not in the API server's watch cache, so their watches are served by etcd
// directly and a compacted resourceVersion answers 410 Expired.
TEST_F(WatchTest, WatchFromCompactedResourceVersionIsGone) {
  const auto& events = resources::Events();
  auto list = client().List(events, ns());
  ASSERT_TRUE(list.ok()) << list.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client().Create(events, ns(), Event(absl::StrCat("e", i), "m")).ok());
  }
  auto compacted = testing_etcd::CompactNow();
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  WatchOptions options;
  options.resource_version = list->resource_version;
  auto stream = client().Watch(events, ns(), options);
  absl::Status gone;
  if (!stream.ok()) {
    gone = stream.status();
  } else {
    auto event = (*stream)->Next();
    ASSERT_TRUE(event.ok()) << event.status();
    ASSERT_TRUE(event->has_value());
    ASSERT_EQ((*event)->type, WatchEventType::kError) << (*event)->object.dump();
    gone = (*event)->ErrorStatus();
  }
  EXPECT_TRUE(IsGone(gone)) << gone;
}

// The informer's watch is made to fall behind a compaction: its handler blocks while the
// server ends the watch (timeoutSeconds), objects change, and etcd compacts. Re-watching from
// its last resourceVersion then answers 410; the informer must relist, and what its handlers
// saw must equal a fresh list: no event lost.
TEST_F(WatchTest, InformerRelistsAfterGoneAndLosesNoEvent) {
  const auto& events = resources::Events();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client().Create(events, ns(), Event(absl::StrCat("old-", i), "0")).ok());
  }
  InformerOptions options;
  options.resource = events;
  options.namespace_name = ns();
  options.watch_timeout = absl::Seconds(1);  // the server ends each watch after 1-2 s
  auto informer = NewInformer(client(), options);

  std::mutex mu;
  std::map<std::string, std::string> seen;  // built only from handler calls
  absl::Notification gate_reached, gate_open;
  EventHandler handler;
  handler.on_add = [&](const Object& obj) {
    {
      std::lock_guard lock(mu);
      seen[Name(obj)] = ResourceVersion(obj);
    }
    if (Name(obj) == "gate") {
      gate_reached.Notify();
      gate_open.WaitForNotification();  // the informer stops reading here
    }
  };
  handler.on_update = [&](const Object&, const Object& obj) {
    std::lock_guard lock(mu);
    seen[Name(obj)] = ResourceVersion(obj);
  };
  handler.on_delete = [&](const Object& obj) {
    std::lock_guard lock(mu);
    seen.erase(Name(obj));
  };
  informer->AddEventHandler(handler);
  informer->Start();
  ASSERT_TRUE(informer->WaitForSync(absl::Seconds(30)));
  EXPECT_EQ(informer->ListCount(), 1);

  ASSERT_TRUE(client().Create(events, ns(), Event("gate", "0")).ok());
  ASSERT_TRUE(gate_reached.WaitForNotificationWithTimeout(absl::Seconds(30)));
  absl::SleepFor(absl::Seconds(3));  // the server has closed the informer's watch by now
  for (int i = 0; i < 5; ++i) {
    auto e = client().Get(events, ns(), absl::StrCat("old-", i));
    ASSERT_TRUE(e.ok());
    (*e)["message"] = "changed";
    ASSERT_TRUE(client().Update(events, ns(), *e).ok());
  }
  for (int i = 5; i < 8; ++i) {
    ASSERT_TRUE(client().Delete(events, ns(), absl::StrCat("old-", i)).ok());
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client().Create(events, ns(), Event(absl::StrCat("new-", i), "n")).ok());
  }
  auto compacted = testing_etcd::CompactNow();
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  gate_open.Notify();

  auto fresh_state = [&] {
    std::map<std::string, std::string> fresh;
    auto list = ListAll(client(), events, ns());
    if (!list.ok()) return fresh;
    for (const auto& item : list->items) fresh[Name(item)] = ResourceVersion(item);
    return fresh;
  };
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return seen == fresh_state();
  }));
  EXPECT_GE(informer->ListCount(), 2) << "the informer did not relist after 410";
  std::map<std::string, std::string> cached;
  for (const auto& [key, rv] : informer->KeysAndVersions()) {
    cached[key.substr(key.find('/') + 1)] = rv;
  }
  EXPECT_EQ(cached, fresh_state());
  informer->Stop();
}

}  // namespace
}  // namespace kubedl::kube
