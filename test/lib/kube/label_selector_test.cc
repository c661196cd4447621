#include "gtest/gtest.h"
#include "kubedl/kube/label_selector.h"

namespace kubedl::kube {
namespace {

TEST(LabelSelectorTest, ParsesEveryOperatorOfTheQuerySyntax) {
  auto s = LabelSelector::Parse("app=web, tier!=db,env in (prod, staging),zone notin (x),gpu,!spot");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->requirements().size(), 6u);
  Labels match = {{"app", "web"}, {"tier", "fe"}, {"env", "prod"}, {"gpu", "1"}};
  EXPECT_TRUE(s->Matches(match));
  Labels spot = match;
  spot.emplace_back("spot", "true");
  EXPECT_FALSE(s->Matches(spot));
  Labels wrong_env = {{"app", "web"}, {"env", "dev"}, {"gpu", "1"}};
  EXPECT_FALSE(s->Matches(wrong_env));
  EXPECT_EQ(s->ToString(), "app=web,tier!=db,env in (prod,staging),zone notin (x),gpu,!spot");
}

TEST(LabelSelectorTest, EmptySelectorMatchesEverything) {
  auto s = LabelSelector::Parse("  ");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Matches({}));
  EXPECT_FALSE(LabelSelector::Parse("a in (b").ok());
  EXPECT_FALSE(LabelSelector::Parse("a,,b").ok());
}

TEST(LabelSelectorTest, FromMetav1LabelSelectorObject) {
  auto s = LabelSelector::FromObject(Object::parse(R"({"matchLabels":{"job":"j1"},
    "matchExpressions":[{"key":"role","operator":"In","values":["master","worker"]}]})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->Matches({{"job", "j1"}, {"role", "worker"}}));
  EXPECT_FALSE(s->Matches({{"job", "j1"}, {"role", "ps"}}));
  EXPECT_FALSE(LabelSelector::FromObject(Object::parse(
      R"({"matchExpressions":[{"key":"a","operator":"Near"}]})")).ok());
}

}  // namespace
}  // namespace kubedl::kube
