// A database of its own for each PostgreSQL test, on the cluster of the pg_cluster fixture
// (tests/exporters/postgres/CMakeLists.txt says how a test gets it).
//
// The fixture's DSN comes from BGPSCRIBE_TEST_DSN; TestDatabase creates a database with a
// unique name there and drops it (WITH (FORCE): connections a failed test left open do not
// keep it) when it goes out of scope. Nothing here creates tables: tests migrate or fill their
// databases themselves.
#pragma once

#include <string>
#include <string_view>

namespace bgpscribe::tests {

// BGPSCRIBE_TEST_DSN, or empty when it is not set.
std::string test_dsn();

// `dsn` with its database name replaced (keeps host, port, user, ...; any DSN form libpq reads).
std::string with_dbname(const std::string& dsn, const std::string& dbname);

class TestDatabase {
 public:
  // `label` goes into the name to make the server log readable (letters, digits and _).
  explicit TestDatabase(std::string_view label);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& dsn() const { return dsn_; }

 private:
  std::string admin_dsn_;
  std::string name_;
  std::string dsn_;
};

}  // namespace bgpscribe::tests

// Skips the current test (from its body or SetUp) when BGPSCRIBE_TEST_DSN is not set, i.e. when
// the binary runs outside ctest's pg_cluster fixture.
#define BGPSCRIBE_REQUIRE_PG()                                                               \
  do {                                                                                       \
    if (::bgpscribe::tests::test_dsn().empty()) {                                            \
      GTEST_SKIP() << "BGPSCRIBE_TEST_DSN is not set: run under ctest (fixture pg_cluster) " \
                      "or point it at a PostgreSQL server";                                  \
    }                                                                                        \
  } while (false)
