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

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

bool TooDeep(const std::string& text, int max_depth) {
  return absl::IsOutOfRange(ParseJson(text, max_depth).status());
}

TEST(JsonParseTest, MaxDepthCountsObjectsAndArraysUpToTheLimit) {
  EXPECT_FALSE(TooDeep("{}", 1));
  EXPECT_TRUE(TooDeep("{\"a\":[]}", 1));
  EXPECT_FALSE(TooDeep("{\"a\":[1,{\"b\":2}],\"c\":[]}", 3));
  EXPECT_TRUE(TooDeep("{\"a\":[1,{\"b\":[]}]}", 3));
  EXPECT_TRUE(ParseJson(Nested(128), 128).ok());
  EXPECT_TRUE(TooDeep(Nested(129), 128));
  EXPECT_EQ(ParseJson(Nested(129), 128).status().message(), "nests JSON more than 128 levels deep");
  // Siblings do not add up: depth goes back down when a level closes.
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "[[]],";
  EXPECT_TRUE(ParseJson("[" + wide + "1]", 3).ok());
  // 0: no limit.
  EXPECT_TRUE(ParseJson(Nested(1000)).ok());
}

TEST(JsonParseTest, MaxDepthIgnoresBracketsInStringsAndEscapedQuotes) {
  EXPECT_TRUE(ParseJson(R"({"a":"[[[[{{{{"})", 1).ok());
  EXPECT_TRUE(ParseJson(R"({"a":"say \"[[[\" and \\","b":"]]]"})", 1).ok());
  EXPECT_TRUE(TooDeep(R"({"a":"\\",  "b":[[]]})", 2));
}

TEST(JsonParseTest, FiftyThousandLevelsStopAtTheLimitWithoutReadingFurther) {
  EXPECT_TRUE(TooDeep(Nested(50000), 128));
  // Never closed and never valid: the depth is what is reported, as soon as it is reached.
  EXPECT_TRUE(TooDeep(std::string(50000, '['), 128));
  EXPECT_TRUE(TooDeep(std::string(200, '[') + "not json", 128));
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
    // With a number beyond 64 bits in front, simdjson refuses the text and nlohmann's SAX parser
    // reads it: the same document either way.
    const std::string streamed = "[18446744073709551616," + text + "]";
    absl::StatusOr<Json> slow = ParseJson(streamed);
    ASSERT_TRUE(slow.ok()) << streamed;
    ASSERT_EQ(slow->dump(), Json::parse(streamed).dump()) << streamed;
  }
}

TEST(JsonParseTest, NumbersReadAsNlohmannReadsThem) {
  for (const char* text : {"[0, 7, -7, 9223372036854775807, -9223372036854775808]",
                           "[18446744073709551615, 18446744073709551616, 1.5, -0.0, 1e300, 2E-3]"}) {
    absl::StatusOr<Json> parsed = ParseJson(text);
    ASSERT_TRUE(parsed.ok()) << text;
    const Json expected = Json::parse(text);
    ASSERT_EQ(parsed->dump(), expected.dump()) << text;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ((*parsed)[i].type(), expected[i].type()) << text << " [" << i << "]";
    }
  }
}

}  // namespace
}  // namespace kubedl::api
