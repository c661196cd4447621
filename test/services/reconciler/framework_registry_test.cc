// Every kind of lib/api's table has its reconciler plug-in (core/framework.h's registry): a
// kind added to api::AllKinds() without a KUBEDL_REGISTER_FRAMEWORK fails here.
#include <cstddef>

#include "core/framework.h"
#include "gtest/gtest.h"
#include "kubedl/api/kind.h"

namespace kubedl::reconciler {
namespace {

TEST(FrameworkRegistry, EveryKindOfTheApiTableHasARegisteredFrameworkOfThatKind) {
  ASSERT_FALSE(api::AllKinds().empty());
  for (const api::KindDescriptor& d : api::AllKinds()) {
    const Framework* framework = FindFramework(d.kind);
    ASSERT_NE(framework, nullptr) << d.name << " has no framework: add frameworks/"
                                  << d.short_name << "/ with KUBEDL_REGISTER_FRAMEWORK";
    EXPECT_EQ(framework->kind(), d.kind) << d.name;
    EXPECT_EQ(&FrameworkFor(d.kind), framework) << d.name;
  }
}

TEST(FrameworkRegistry, EachKindHasItsOwnFramework) {
  for (size_t i = 0; i < api::AllKinds().size(); ++i) {
    for (size_t j = i + 1; j < api::AllKinds().size(); ++j) {
      EXPECT_NE(FindFramework(api::AllKinds()[i].kind), FindFramework(api::AllKinds()[j].kind))
          << api::AllKinds()[i].name << " and " << api::AllKinds()[j].name;
    }
  }
}

TEST(FrameworkRegistry, AKindOutsideTheTableHasNone) {
  EXPECT_EQ(FindFramework(static_cast<api::JobKind>(api::AllKinds().size())), nullptr);
  EXPECT_EQ(FindFramework(static_cast<api::JobKind>(1000)), nullptr);
}

}  // namespace
}  // namespace kubedl::reconciler
