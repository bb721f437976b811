# bgpscribe_add_bench(NAME SOURCES... [LIBS libs...]): one Google Benchmark binary.
#
# Built only when BGPSCRIBE_BENCH is ON (release and ci presets), into <build>/benchmarks/,
# linked with benchmark::benchmark_main (define no main) and bgpscribe::codec plus LIBS.
# Never registered with ctest: benchmarks stay out of the test run; scripts/bench runs them.
# Included from the top-level CMakeLists.txt, so any folder may call it.
function(bgpscribe_add_bench name)
  if(NOT BGPSCRIBE_BENCH)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  find_package(benchmark REQUIRED)
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE benchmark::benchmark_main bgpscribe::codec ${ARG_LIBS})
  target_compile_options(${name} PRIVATE ${BGPSCRIBE_WARNINGS})
  target_compile_definitions(${name} PRIVATE
    BGPSCRIBE_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data")
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/benchmarks)
endfunction()
