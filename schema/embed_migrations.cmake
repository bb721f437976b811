# Generates the C++ file that embeds schema/sql's migrations into bgpscribe (schema/CMakeLists.txt runs
# it at build time, again whenever a migration file changes or appears).
#
#   cmake -DSQL_DIR=<schema/sql> -DOUTPUT=<file.cpp> -P embed_migrations.cmake
#
# Checks what the runner relies on, so that a misnamed file fails the build instead of a
# database: names NNNN_name.sql (four digits, lower-case name), versions 1, 2, 3, ... without
# gaps or duplicates. Each file becomes a raw string literal; a file that contains the
# literal's delimiter is refused.
cmake_minimum_required(VERSION 3.25)

if(NOT SQL_DIR OR NOT OUTPUT)
  message(FATAL_ERROR "embed_migrations.cmake: pass -DSQL_DIR=... -DOUTPUT=...")
endif()

file(GLOB files RELATIVE "${SQL_DIR}" "${SQL_DIR}/*.sql")
list(SORT files)
if(NOT files)
  message(FATAL_ERROR "embed_migrations.cmake: no migrations (*.sql) in ${SQL_DIR}")
endif()

set(delimiter "bgpscribe_sql")
set(literals "")
set(entries "")
set(expected 1)
foreach(name IN LISTS files)
  if(NOT name MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)\\.sql$")
    message(FATAL_ERROR "${SQL_DIR}/${name}: a migration is named NNNN_name.sql "
                        "(four digits, then lower-case letters, digits and _)")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")  # drops the leading zeros
  if(NOT version EQUAL expected)
    message(FATAL_ERROR "${SQL_DIR}/${name}: expected version ${expected} here; migrations are "
                        "numbered 1, 2, 3, ... without gaps or duplicates")
  endif()
  file(READ "${SQL_DIR}/${name}" sql)
  string(FIND "${sql}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${SQL_DIR}/${name} contains ')${delimiter}\"', the end of the raw "
                        "string it is embedded in")
  endif()
  string(APPEND literals "constexpr std::string_view kSql${version} = R\"${delimiter}(${sql})${delimiter}\";\n\n")
  string(APPEND entries "    Migration{${version}, \"${name}\", kSql${version}},\n")
  math(EXPR expected "${expected} + 1")
endforeach()
math(EXPR count "${expected} - 1")

file(WRITE "${OUTPUT}.tmp" "// Generated from schema/sql by schema/embed_migrations.cmake: do not edit.
#include <array>
#include <span>
#include <string_view>

#include \"schema/migrations.hpp\"

namespace bgpscribe::schema::detail {
namespace {

${literals}constexpr std::array<Migration, ${count}> kMigrations{
${entries}};

}  // namespace

std::span<const Migration> embedded_migrations() { return kMigrations; }

}  // namespace bgpscribe::schema::detail
")
# Only a real change touches the output, so that an unchanged set recompiles nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
