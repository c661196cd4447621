#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kubedl/kube/ndjson.h"
#include "kubedl/kube/watch.h"

namespace kubedl::kube {
namespace {

const char kStream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"2\"}}}\r\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}\n"
    "\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"4\"}}}\n";

std::vector<std::string> SplitInChunks(const std::string& data, std::vector<size_t> cuts) {
  NdjsonSplitter splitter;
  std::vector<std::string> lines;
  auto collect = [&](absl::string_view line) { lines.emplace_back(line); };
  size_t from = 0;
  cuts.push_back(data.size());
  for (size_t cut : cuts) {
    splitter.Feed(absl::string_view(data).substr(from, cut - from), collect);
    from = cut;
  }
  EXPECT_EQ(splitter.pending(), 0u);
  return lines;
}

TEST(NdjsonSplitterTest, EveryChunkBoundaryGivesTheSameEvents) {
  const std::string data = kStream;
  const std::vector<std::string> whole = SplitInChunks(data, {});
  ASSERT_EQ(whole.size(), 4u);
  for (size_t i = 0; i <= data.size(); ++i) {
    EXPECT_EQ(SplitInChunks(data, {i}), whole) << "one cut at " << i;
  }
  // Every pair of cuts: events split across three chunks, several events in one chunk.
  for (size_t i = 0; i <= data.size(); ++i) {
    for (size_t j = i; j <= data.size(); ++j) {
      ASSERT_EQ(SplitInChunks(data, {i, j}), whole) << "cuts at " << i << "," << j;
    }
  }
  // One byte at a time.
  std::vector<size_t> every;
  for (size_t i = 1; i < data.size(); ++i) every.push_back(i);
  EXPECT_EQ(SplitInChunks(data, every), whole);
}

TEST(NdjsonSplitterTest, UnfinishedLineIsHeldBack) {
  NdjsonSplitter splitter;
  int lines = 0;
  splitter.Feed("{\"a\":1}\n{\"b\"", [&](absl::string_view) { ++lines; });
  EXPECT_EQ(lines, 1);
  EXPECT_EQ(splitter.pending(), 4u);
}

TEST(WatchEventTest, ParsesTypesAndErrorStatus) {
  const std::string data = kStream;
  auto lines = SplitInChunks(data, {});
  std::vector<WatchEventType> types;
  for (const auto& line : lines) {
    auto event = ParseWatchEvent(line);
    ASSERT_TRUE(event.ok()) << event.status();
    types.push_back(event->type);
  }
  EXPECT_EQ(types, (std::vector<WatchEventType>{WatchEventType::kAdded, WatchEventType::kModified,
                                                 WatchEventType::kBookmark,
                                                 WatchEventType::kDeleted}));
  auto error = ParseWatchEvent(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})");
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->type, WatchEventType::kError);
  EXPECT_EQ(error->ErrorStatus().code(), absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(ParseWatchEvent("{\"type\":\"ADDED\"").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"WHAT","object":{}})").ok());
}

TEST(ParseWatchEventTest, SkippedFieldsOfTheObjectAreNeverBuiltAndTheRestIsKept) {
  auto event = ParseWatchEvent(
      R"({"type":"ADDED","object":{"metadata":{"name":"p","spec":"kept: not top level"},)"
      R"("spec":{"containers":[{"env":[{"name":"TF_CONFIG","value":"big"}]}]},"status":{"phase":"Running"}}})",
      {"spec"});
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->type, WatchEventType::kAdded);
  EXPECT_FALSE(event->object.contains("spec"));
  EXPECT_EQ(event->object["status"]["phase"], "Running");
  EXPECT_EQ(event->object["metadata"]["spec"], "kept: not top level");
}

}  // namespace
}  // namespace kubedl::kube
