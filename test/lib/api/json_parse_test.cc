#include "kubedl/api/json_parse.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace kubedl::api {
namespace {

TEST(JsonParseTest, GivesWhatJsonParseGivesKeyOrderIncluded) {
  const char* texts[] = {
      R"({"b": 1, "a": [1, -2, 3.5, "x", null, true, false, {}, []], "c": {"z": {"y": "é\u00e9"}}})",
      R"([])", R"("just a string")", R"(18446744073709551615)", R"(-9223372036854775808)",
      R"({"k": 1, "j": 2, "k": 3})",  // a repeated key: first place, last value
  };
  for (const char* text : texts) {
    absl::StatusOr<Json> parsed = ParseJson(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(parsed->dump(), Json::parse(text).dump()) << text;
  }
}

TEST(JsonParseTest, RepeatedKeysInALargeObjectKeepTheirFirstPlaceAndLastValue) {
  std::string text = "{";
  for (int i = 0; i < 200; ++i) text += "\"k" + std::to_string(i % 50) + "\":" + std::to_string(i) + ",";
  text.back() = '}';
  absl::StatusOr<Json> parsed = ParseJson(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->size(), 50u);
  EXPECT_EQ(parsed->dump(), Json::parse(text).dump());
  EXPECT_EQ((*parsed)["k0"], 150);
  EXPECT_EQ(parsed->begin().key(), "k0");
}

TEST(JsonParseTest, OneHundredThousandKeysInOneObjectAreAllKeptInOrder) {
  std::string text = "{";
  for (int i = 0; i < 100000; ++i) text += "\"key-" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  text.back() = '}';
  absl::StatusOr<Json> parsed = ParseJson(text);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 100000u);
  EXPECT_EQ(parsed->begin().key(), "key-0");
  EXPECT_EQ((*parsed)["key-99999"], 99999);
}

TEST(JsonParseTest, BrokenTextIsInvalidArgumentWithItsOffset) {
  for (const char* text : {"", "{", R"({"a": })", "[1,]", "{} {}", "\"\xff\""}) {
    absl::StatusOr<Json> parsed = ParseJson(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(parsed.status().message().find("at byte"), std::string::npos);
  }
}

TEST(JsonParseTest, RandomDocumentsParseAsJsonParseParsesThem) {
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    // A random document written with repeated keys and nesting.
    std::string text;
    int depth = 0;
    std::vector<bool> in_object;
    std::vector<int> count;
    auto value_start = [&] {
      if (!count.empty() && count.back()++ > 0) text += ",";
      if (!in_object.empty() && in_object.back()) {
        text += "\"" + std::string(1, static_cast<char>('a' + rng() % 4)) + "\":";
      }
    };
    value_start();
    text += "{";
    in_object.push_back(true);
    count.push_back(0);
    ++depth;
    for (int step = 0; step < 60 && depth > 0; ++step) {
      unsigned pick = rng() % 6;
      if (pick == 0 && depth < 8) {
        value_start();
        bool object = rng() % 2 == 0;
        text += object ? "{" : "[";
        in_object.push_back(object);
        count.push_back(0);
        ++depth;
      } else if (pick == 1) {
        text += in_object.back() ? "}" : "]";
        in_object.pop_back();
        count.pop_back();
        --depth;
      } else {
        value_start();
        text += std::to_string(static_cast<int>(rng() % 100) - 50);
      }
    }
    while (depth-- > 0) {
      text += in_object.back() ? "}" : "]";
      in_object.pop_back();
    }
    absl::StatusOr<Json> parsed = ParseJson(text);
    ASSERT_TRUE(parsed.ok()) << text;
    ASSERT_EQ(parsed->dump(), Json::parse(text).dump()) << text;
  }
}

}  // namespace
}  // namespace kubedl::api
