# Compiler settings shared by every KubeDL target.
add_library(kubedl_flags INTERFACE)
target_compile_options(kubedl_flags INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(KUBEDL_WERROR)
  target_compile_options(kubedl_flags INTERFACE -Werror)
endif()
if(KUBEDL_SANITIZE)
  target_compile_options(kubedl_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined
                         # GCC's flow analysis sees through ASan's instrumentation badly and reports
                         # uninitialised reads inside Boost.Beast/optional that do not exist.
                         -Wno-maybe-uninitialized)
  target_link_options(kubedl_flags INTERFACE -fsanitize=address,undefined)
endif()
if(KUBEDL_TSAN)
  if(KUBEDL_SANITIZE)
    message(FATAL_ERROR "KUBEDL_TSAN and KUBEDL_SANITIZE exclude each other: ThreadSanitizer "
                        "cannot run with AddressSanitizer; use two build directories.")
  endif()
  set(kubedl_tsan_flags -fsanitize=thread -fno-omit-frame-pointer
      # As under ASan, GCC's flow analysis reports uninitialised reads in instrumented
      # Boost.Beast/optional code that do not exist.
      -Wno-maybe-uninitialized
      # GCC warns that TSan does not model std::atomic_thread_fence; our code uses none, but
      # headers of dependencies do.
      -Wno-tsan)
  target_compile_options(kubedl_flags INTERFACE ${kubedl_tsan_flags})
  target_link_options(kubedl_flags INTERFACE -fsanitize=thread)
  # Debian's Abseil is not instrumented: every executable links annotations of its Mutex,
  # CondVar and Notification (test/tsan/absl_sync_annotations.cc says why and how).
  add_library(kubedl_tsan_absl_annotations STATIC
    ${PROJECT_SOURCE_DIR}/test/tsan/absl_sync_annotations.cc)
  # Not instrumented itself: its own reads of the Condition objects it passes to Abseil happen
  # inside Abseil, like Abseil's own.
  target_compile_options(kubedl_tsan_absl_annotations PRIVATE -Wall -Wextra -Werror)
  target_link_libraries(kubedl_tsan_absl_annotations PUBLIC absl::synchronization absl::time)
  file(STRINGS ${PROJECT_SOURCE_DIR}/test/tsan/absl_sync_annotations.cc kubedl_tsan_wrapped
       REGEX "^[a-z]+ __wrap_")
  set(kubedl_tsan_wrap_options "")
  foreach(line IN LISTS kubedl_tsan_wrapped)
    string(REGEX REPLACE "^[a-z]+ __wrap_([A-Za-z0-9_]+)\\(.*$" "\\1" symbol "${line}")
    # --undefined pulls the wrapper in even when no object of ours calls it: shared libraries
    # (libabsl_cordz_info) refer to the wrapped names too, and ld checks them.
    list(APPEND kubedl_tsan_wrap_options "-Wl,--wrap=${symbol}" "-Wl,--undefined=__wrap_${symbol}")
  endforeach()
  target_link_options(kubedl_flags INTERFACE ${kubedl_tsan_wrap_options})
  target_link_libraries(kubedl_flags INTERFACE kubedl_tsan_absl_annotations)
endif()

# kubedl_test(NAME name SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s] [RUN_SERIAL])
# One gtest binary; each TEST() becomes its own ctest entry so the summary counts behaviours.
include(GoogleTest)
function(kubedl_test)
  cmake_parse_arguments(T "RUN_SERIAL" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main kubedl_flags)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set(serial FALSE)
  if(T_RUN_SERIAL)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${T_NAME}
    DISCOVERY_TIMEOUT 60
    TEST_LIST ${T_NAME}_TESTS
    PROPERTIES TIMEOUT ${T_TIMEOUT} RUN_SERIAL ${serial})
  # Labels are set by a script ctest includes after discovery: gtest_discover_tests flattens a
  # list-valued property, so several labels would arrive as one plus a stray argument.
  set(label_script "${CMAKE_CURRENT_BINARY_DIR}/${T_NAME}_labels.cmake")
  file(WRITE "${label_script}"
    "foreach(t IN LISTS ${T_NAME}_TESTS)\n"
    "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${T_LABELS}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${label_script}")
  # Label `grpc`: the test runs gRPC calls or protobuf messages of our protos. The TSan build
  # leaves those out: Debian's gRPC synchronizes out of TSan's sight (every hand-over between
  # our code and its threads is reported), and protobuf's headers change MapField's layout
  # under TSan, so they no longer match the uninstrumented libprotobuf (crashes).
  if("unit" IN_LIST T_LABELS AND NOT (KUBEDL_TSAN AND "grpc" IN_LIST T_LABELS))
    set_property(GLOBAL APPEND PROPERTY KUBEDL_UNIT_TEST_TARGETS ${T_NAME})
  endif()
endfunction()

# `kubedl_unit_tests` builds only what `ctest -L unit` runs, so the sanitizer pass skips the
# integration tests and benchmarks. Called once, after every test directory was added.
function(kubedl_add_unit_tests_target)
  get_property(targets GLOBAL PROPERTY KUBEDL_UNIT_TEST_TARGETS)
  add_custom_target(kubedl_unit_tests)
  if(targets)
    add_dependencies(kubedl_unit_tests ${targets})
  endif()
endfunction()
