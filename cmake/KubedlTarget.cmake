# Compiler settings shared by every KubeDL target.
add_library(kubedl_flags INTERFACE)
target_compile_options(kubedl_flags INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(KUBEDL_WERROR)
  target_compile_options(kubedl_flags INTERFACE -Werror)
endif()
if(KUBEDL_SANITIZE)
  target_compile_options(kubedl_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(kubedl_flags INTERFACE -fsanitize=address,undefined)
endif()

# kubedl_test(NAME name SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s])
# One gtest binary; each TEST() becomes its own ctest entry so the summary counts behaviours.
include(GoogleTest)
function(kubedl_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main kubedl_flags)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  gtest_discover_tests(${T_NAME}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()
