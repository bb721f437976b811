# bgpscribe_add_fuzzer(NAME SOURCE [CORPUS dir] [LIBS libs...]): one libFuzzer target.
#
# The source defines LLVMFuzzerTestOneInput and links bgpscribe::codec (plus LIBS).
# - BGPSCRIBE_FUZZ=ON (clang, fuzz preset): builds the fuzzer NAME into <build>/fuzzers/,
#   with -fsanitize=fuzzer,address,undefined; the `fuzzers` target builds them all.
# - Otherwise (g++ test builds): builds NAME_replay, the same source with a replay main, and
#   registers the ctest test fuzz_replay_NAME (label `fuzz`) that runs every input of the
#   committed corpus, by default tests/fuzz/corpus/NAME/.
# Included from the top-level CMakeLists.txt, so any folder may call it.
set(BGPSCRIBE_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
if(BGPSCRIBE_FUZZ)
  add_custom_target(fuzzers)
endif()

function(bgpscribe_add_fuzzer name source)
  cmake_parse_arguments(ARG "" "CORPUS" "LIBS" ${ARGN})
  if(NOT ARG_CORPUS)
    set(ARG_CORPUS ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  endif()
  if(BGPSCRIBE_FUZZ)
    add_executable(${name} ${source})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE bgpscribe::codec ${ARG_LIBS})
    target_compile_options(${name} PRIVATE ${BGPSCRIBE_WARNINGS})
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzzers)
    add_dependencies(fuzzers ${name})
  elseif(BGPSCRIBE_TESTS)
    if(NOT TARGET bgpscribe_fuzz_replay_main)
      add_library(bgpscribe_fuzz_replay_main STATIC ${BGPSCRIBE_FUZZ_DIR}/replay_main.cpp)
      target_compile_options(bgpscribe_fuzz_replay_main PRIVATE ${BGPSCRIBE_WARNINGS})
    endif()
    add_executable(${name}_replay ${source})
    target_link_libraries(${name}_replay PRIVATE bgpscribe_fuzz_replay_main bgpscribe::codec
                                                 ${ARG_LIBS})
    target_compile_options(${name}_replay PRIVATE ${BGPSCRIBE_WARNINGS})
    if(NOT EXISTS ${ARG_CORPUS})
      message(WARNING "fuzz target ${name} has no corpus at ${ARG_CORPUS}: commit some seeds")
      add_test(NAME fuzz_replay_${name} COMMAND ${name}_replay)
    else()
      add_test(NAME fuzz_replay_${name} COMMAND ${name}_replay ${ARG_CORPUS})
    endif()
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz)
  endif()
endfunction()
