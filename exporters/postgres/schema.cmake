# bgpscribe::postgres_schema: the migrations of schema/sql, embedded into the binary, and their
# runner (schema.hpp). Included by exporters/postgres/CMakeLists.txt, which finds PkgConfig::PQXX.
#
# The .sql files are read at build time, not configure time: embed_migrations.cmake turns them
# into migrations.cpp whenever one changes, and the CONFIGURE_DEPENDS glob re-runs CMake when
# a file is added, so a new migration needs no CMake edit.
set(BGPSCRIBE_SQL_DIR ${PROJECT_SOURCE_DIR}/schema/sql)
file(GLOB BGPSCRIBE_MIGRATION_FILES CONFIGURE_DEPENDS ${BGPSCRIBE_SQL_DIR}/*.sql)
set(BGPSCRIBE_MIGRATIONS_CPP ${CMAKE_CURRENT_BINARY_DIR}/migrations.cpp)
add_custom_command(
  OUTPUT ${BGPSCRIBE_MIGRATIONS_CPP}
  COMMAND ${CMAKE_COMMAND} -DSQL_DIR=${BGPSCRIBE_SQL_DIR} -DOUTPUT=${BGPSCRIBE_MIGRATIONS_CPP}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_migrations.cmake
  DEPENDS ${BGPSCRIBE_MIGRATION_FILES} ${CMAKE_CURRENT_SOURCE_DIR}/embed_migrations.cmake
  COMMENT "Embedding the schema migrations (schema/sql)"
  VERBATIM)

add_library(bgpscribe_postgres_schema STATIC schema.cpp ${BGPSCRIBE_MIGRATIONS_CPP})
add_library(bgpscribe::postgres_schema ALIAS bgpscribe_postgres_schema)
target_include_directories(bgpscribe_postgres_schema PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_options(bgpscribe_postgres_schema PRIVATE ${BGPSCRIBE_WARNINGS})
target_link_libraries(bgpscribe_postgres_schema PUBLIC PkgConfig::PQXX)
