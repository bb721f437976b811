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
# The Protobuf schema of the live API and the Kafka events, for clients in other languages.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/schema/proto/bgpscribe
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bgpscribe/proto FILES_MATCHING PATTERN "*.proto")
# The documentation, and the README as its entry.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The service (docs/service.md): the systemd unit and the user it runs as, under the prefix's
# lib/ (systemd reads /usr/lib/systemd/system and /usr/lib/sysusers.d), whatever LIBDIR is.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/bgpscribe.service
        DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/bgpscribe.sysusers
        DESTINATION lib/sysusers.d RENAME bgpscribe.conf)

# `cpack -G DEB` in a release build folder: a Debian package of all the above, its library
# dependencies found by dpkg-shlibdeps; postinst creates the user (docs/service.md).
set(CPACK_PACKAGE_NAME bgpscribe)
set(CPACK_PACKAGE_VENDOR bgpscribe)
set(CPACK_PACKAGE_CONTACT "bgpscribe developers <bgpscribe@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "BGP route collector and BGP-4 speaker library (MRT, SQL, BMP, Kafka)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/postinst)
include(CPack)
