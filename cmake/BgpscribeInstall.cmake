# The CMake package of the installed tree, so that another project can write
#   find_package(bgpscribe REQUIRED)
#   target_link_libraries(app PRIVATE bgpscribe::speaker)   # or bgpscribe::codec
# (docs/speaker.md, "Using the library from another project"). codec/ and speaker/ install their
# libraries and headers into the export set bgpscribeTargets; tools/ and examples/ their programs.
include(CMakePackageConfigHelpers)

set(BGPSCRIBE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/bgpscribe)
install(EXPORT bgpscribeTargets NAMESPACE bgpscribe:: DESTINATION ${BGPSCRIBE_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/bgpscribeConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/bgpscribeConfig.cmake
                              INSTALL_DESTINATION ${BGPSCRIBE_CMAKE_DIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/bgpscribeConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/bgpscribeConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/bgpscribeConfigVersion.cmake
        DESTINATION ${BGPSCRIBE_CMAKE_DIR})

# The migrations (the binary embeds them too; these are for reading and for other tools) and
# the example collector config.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/schema/sql/ DESTINATION ${CMAKE_INSTALL_DATADIR}/bgpscribe/schema
        FILES_MATCHING PATTERN "*.sql")
install(FILES ${PROJECT_SOURCE_DIR}/collector.example.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR})
