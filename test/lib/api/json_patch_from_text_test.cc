#include "kubedl/api/json_patch_from_text.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace kubedl::api {
namespace {

// Applies the patch made from `original`'s text and checks it yields `target` exactly (key order
// aside: an added key goes last, and the API server keeps objects as maps).
void ExpectPatchTurnsInto(const Json& original, const Json& target) {
  Json document = {{"request", {{"uid", "u"}, {"object", original}, {"after", {1, 2}}}}};
  absl::StatusOr<std::string> patch =
      JsonPatchFromText(document.dump(), {"request", "object"}, target);
  ASSERT_TRUE(patch.ok()) << patch.status();
  Json ops = Json::parse(*patch);
  EXPECT_EQ(nlohmann::json::parse(original.patch(ops).dump()), nlohmann::json::parse(target.dump()))
      << "patch: " << *patch;
}

TEST(JsonPatchFromTextTest, EqualValuesGiveAnEmptyPatch) {
  Json job = Json::parse(R"({"a": {"b": [1, 2.5, "x", null, true]}, "c": {}})");
  absl::StatusOr<std::string> patch =
      JsonPatchFromText(Json({{"request", {{"object", job}}}}).dump(), {"request", "object"}, job);
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(*patch, "[]");
}

TEST(JsonPatchFromTextTest, AddsReplacesAndRemovesWhatDiffers) {
  Json original = Json::parse(R"({"keep": 1, "gone": {"x": 1}, "change": "a",
      "list": [1, 2, 3, 4], "grow": [1], "nested": {"ports": []}, "kind": [1]})");
  Json target = Json::parse(R"({"keep": 1, "change": "b", "list": [1, 9], "grow": [1, {"p": 2}],
      "nested": {"ports": [{"name": "tfjob-port", "containerPort": 2222}]}, "kind": {"k": 1},
      "new/key~": {"v": true}})");
  ExpectPatchTurnsInto(original, target);
}

TEST(JsonPatchFromTextTest, AnIntegerEqualToAnUnsignedIsNotAChange) {
  Json original = Json::parse(R"({"replicas": 2})");
  Json target = {{"replicas", static_cast<int64_t>(2)}};
  absl::StatusOr<std::string> patch = JsonPatchFromText(
      Json({{"request", {{"object", original}}}}).dump(), {"request", "object"}, target);
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(*patch, "[]");
}

TEST(JsonPatchFromTextTest, MissingMemberIsNotFound) {
  EXPECT_EQ(JsonPatchFromText(R"({"request": {"oldObject": {}}})", {"request", "object"},
                              Json::object())
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  // A key of that name deeper down, or inside an array, is not the member.
  EXPECT_EQ(JsonPatchFromText(R"({"x": {"request": {"object": {}}}, "request": [{"object": 1}]})",
                              {"request", "object"}, Json::object())
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(JsonPatchFromTextTest, RepeatedKeysAndBrokenTextAreRefusedForTheCallerToFallBack) {
  EXPECT_EQ(JsonPatchFromText(R"({"request": {"object": {"a": 1, "a": 2}}})",
                              {"request", "object"}, Json({{"a", 2}}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonPatchFromText(R"({"request": {"object": {}}, "request": {"object": {}}})",
                              {"request", "object"}, Json::object())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonPatchFromText(R"({"request": {"object": {"a": )", {"request", "object"},
                              Json::object())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Random documents and random edits of them: the patch always turns one into the other.
Json RandomValue(std::mt19937& rng, int depth) {
  int pick = static_cast<int>(rng() % (depth > 3 ? 4 : 7));
  switch (pick) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<int64_t>(rng() % 5) - 2;
    case 3: return std::string(1, static_cast<char>('a' + rng() % 3));
    case 4: {
      Json array = Json::array();
      for (unsigned i = rng() % 4; i > 0; --i) array.push_back(RandomValue(rng, depth + 1));
      return array;
    }
    default: {
      Json object = Json::object();
      for (unsigned i = rng() % 4; i > 0; --i) {
        object[std::string(1, static_cast<char>('k' + rng() % 4)) + (rng() % 5 == 0 ? "/~" : "")] =
            RandomValue(rng, depth + 1);
      }
      return object;
    }
  }
}

Json Edited(const Json& value, std::mt19937& rng, int depth) {
  if (rng() % 6 == 0) return RandomValue(rng, depth);
  if (value.is_object()) {
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (rng() % 8 != 0) out[it.key()] = Edited(*it, rng, depth + 1);
    }
    if (rng() % 4 == 0) out["z" + std::to_string(rng() % 3)] = RandomValue(rng, depth + 1);
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& element : value) {
      if (rng() % 8 != 0) out.push_back(Edited(element, rng, depth + 1));
    }
    if (rng() % 4 == 0) out.push_back(RandomValue(rng, depth + 1));
    return out;
  }
  return value;
}

TEST(JsonPatchFromTextTest, RandomEditsAreAlwaysReproducedExactly) {
  std::mt19937 rng(20261201);
  for (int i = 0; i < 3000; ++i) {
    Json original = RandomValue(rng, 0);
    if (!original.is_object()) original = Json{{"root", original}};
    Json target = Edited(original, rng, 0);
    if (!target.is_object()) target = Json{{"root", target}};
    ExpectPatchTurnsInto(original, target);
    if (HasFailure()) return;
  }
}

// Objects past the size where members are found through an index rather than a scan, read by
// both readers (the streaming one is made to run by a number simdjson refuses).
TEST(JsonPatchFromTextTest, ObjectsWithManyKeysArePatchedKeyByKeyInBothReaders) {
  Json original = Json::object();
  for (int i = 0; i < 5000; ++i) original["key-" + std::to_string(i)] = i;
  Json target = original;
  target.erase("key-0");
  target.erase("key-4999");
  target["key-17"] = "changed";
  target["key-2500"] = Json{{"nested", true}};
  target["added/~"] = 1;
  const std::string text = Json{{"request", {{"object", original}}}}.dump();
  const std::string streamed = R"({"big":18446744073709551616,)" + text.substr(1);
  absl::StatusOr<std::string> fast = JsonPatchFromText(text, {"request", "object"}, target);
  absl::StatusOr<std::string> slow = JsonPatchFromText(streamed, {"request", "object"}, target);
  ASSERT_TRUE(fast.ok() && slow.ok()) << fast.status() << " " << slow.status();
  EXPECT_EQ(*fast, *slow);
  EXPECT_EQ(*fast,
            R"([{"op":"remove","path":"/key-0"},)"
            R"({"op":"replace","path":"/key-17","value":"changed"},)"
            R"({"op":"replace","path":"/key-2500","value":{"nested":true}},)"
            R"({"op":"remove","path":"/key-4999"},{"op":"add","path":"/added~1~0","value":1}])");
  ExpectPatchTurnsInto(original, target);

  // A key repeated far from its first place is still found out, by both readers.
  const std::string repeated = text.substr(0, text.size() - 3) + R"(,"key-3":3}}})";
  for (const std::string& document :
       {repeated, R"({"big":18446744073709551616,)" + repeated.substr(1)}) {
    EXPECT_EQ(JsonPatchFromText(document, {"request", "object"}, original).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// A number beyond 64 bits is refused by simdjson and read by nlohmann's SAX parser: the same
// document with one such member beside the request takes the streaming path, and both paths must
// write the same patch text, operation for operation.
TEST(JsonPatchFromTextTest, BothReadersWriteTheSamePatchText) {
  std::mt19937 rng(20261130);
  for (int i = 0; i < 2000; ++i) {
    Json original = RandomValue(rng, 0);
    if (!original.is_object()) original = Json{{"root", original}};
    Json target = Edited(original, rng, 0);
    if (!target.is_object()) target = Json{{"root", target}};
    const std::string text = Json{{"request", {{"object", original}}}}.dump();
    const std::string streamed = R"({"big":18446744073709551616,)" + text.substr(1);
    absl::StatusOr<std::string> fast = JsonPatchFromText(text, {"request", "object"}, target);
    absl::StatusOr<std::string> slow = JsonPatchFromText(streamed, {"request", "object"}, target);
    ASSERT_TRUE(fast.ok() && slow.ok()) << fast.status() << " " << slow.status();
    ASSERT_EQ(*fast, *slow) << text;
  }
}

}  // namespace
}  // namespace kubedl::api
