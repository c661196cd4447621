#include "kubedl/kube/quantity.h"

#include "gtest/gtest.h"

namespace kubedl::kube {
namespace {

std::string Canonical(absl::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status();
  return q.ok() ? q->ToString() : "";
}

TEST(Quantity, DecimalBinaryAndExponentSuffixesParseExactly) {
  EXPECT_EQ(Canonical("500m"), "500m");
  EXPECT_EQ(Canonical("2"), "2");
  EXPECT_EQ(Canonical("1.5"), "1500m");
  EXPECT_EQ(Canonical("1Ki"), "1024");
  EXPECT_EQ(Canonical("1.5Gi"), "1610612736");
  EXPECT_EQ(Canonical("2k"), "2000");
  EXPECT_EQ(Canonical("1e3"), "1000");
  EXPECT_EQ(Canonical("5n"), "5n");
  EXPECT_EQ(Canonical("1Ei"), "1152921504606846976");
}

TEST(Quantity, SumsOfManyPodsStayExact) {
  Quantity total;
  for (int i = 0; i < 3; ++i) total += *Quantity::Parse("100m");
  total += *Quantity::Parse("1.7");
  EXPECT_EQ(total.ToString(), "2");
  EXPECT_EQ((*Quantity::Parse("250Mi") * 4).ToString(), "1048576000");
}

TEST(Quantity, MalformedTextIsRefusedWithTheText) {
  for (absl::string_view bad : {"", "abc", "1.2.3", "5Xi", "m", "1e"}) {
    absl::StatusOr<Quantity> q = Quantity::Parse(bad);
    ASSERT_FALSE(q.ok()) << bad;
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(q.status().message().find(std::string("\"") + std::string(bad) + "\""),
              absl::string_view::npos);
  }
}


TEST(Quantity, AResourceListRefusesNegativeAmountsNamingTheResource) {
  absl::StatusOr<ResourceList> list = ParseResourceList({{"cpu", "1"}, {"memory", "-1Gi"}});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(list.status().message(), "memory: quantity \"-1Gi\" must not be negative");
  EXPECT_TRUE(ParseResourceList({{"cpu", "0"}}).ok());
}

TEST(Quantity, PrecisionBelowANanoUnitRoundsUp) {
  EXPECT_EQ(Canonical("0.1n"), "1n");
  EXPECT_EQ(Canonical("1.0000000001"), "1000000001n");
  EXPECT_EQ(Canonical("1.50000"), "1500m");
  EXPECT_EQ(Canonical("1e-12"), "1n");
}

TEST(Quantity, ValuesPastTwoToTheSixtyThirdUnitsAreRefusedNotWrapped) {
  for (absl::string_view huge : {"9Ei", "1e99", "99999999999999999999999999999", "10E"}) {
    absl::StatusOr<Quantity> q = Quantity::Parse(huge);
    ASSERT_FALSE(q.ok()) << huge << " parsed as " << q->ToString();
    EXPECT_NE(q.status().message().find("out of range"), std::string::npos) << huge;
  }
  EXPECT_EQ(Canonical("7Ei"), "8070450532247928832");
}

}  // namespace
}  // namespace kubedl::kube
