#include "kubedl/api/json_depth.h"

#include <string>

#include "gtest/gtest.h"

namespace kubedl::api {
namespace {

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonDepthTest, CountsObjectsAndArraysUpToTheLimit) {
  EXPECT_FALSE(JsonDeeperThan("{}", 1));
  EXPECT_TRUE(JsonDeeperThan("{\"a\":[]}", 1));
  EXPECT_FALSE(JsonDeeperThan("{\"a\":[1,{\"b\":2}],\"c\":[]}", 3));
  EXPECT_TRUE(JsonDeeperThan("{\"a\":[1,{\"b\":[]}]}", 3));
  EXPECT_FALSE(JsonDeeperThan(Nested(128), 128));
  EXPECT_TRUE(JsonDeeperThan(Nested(129), 128));
  // Siblings do not add up: depth goes back down when a level closes.
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "[[]],";
  EXPECT_FALSE(JsonDeeperThan("[" + wide + "1]", 3));
}

TEST(JsonDepthTest, BracketsInStringsAndEscapedQuotesDoNotCount) {
  EXPECT_FALSE(JsonDeeperThan(R"({"a":"[[[[{{{{"})", 1));
  EXPECT_FALSE(JsonDeeperThan(R"({"a":"say \"[[[\" and \\","b":"]]]"})", 1));
  EXPECT_TRUE(JsonDeeperThan(R"({"a":"\\",  "b":[[]]})", 2));
}

TEST(JsonDepthTest, FiftyThousandLevelsAreFoundWithoutRecursion) {
  EXPECT_TRUE(JsonDeeperThan(Nested(50000), kDefaultMaxJsonDepth));
  EXPECT_TRUE(JsonDeeperThan(std::string(50000, '{'), kDefaultMaxJsonDepth));
}

}  // namespace
}  // namespace kubedl::api
