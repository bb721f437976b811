#include "tests/exporters/postgres/test_database.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>

namespace bgpscribe::tests {

std::string test_dsn() {
  const char* dsn = std::getenv("BGPSCRIBE_TEST_DSN");
  return dsn != nullptr ? std::string(dsn) : std::string();
}

std::string with_dbname(const std::string& dsn, const std::string& dbname) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(dsn.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    throw std::runtime_error("BGPSCRIBE_TEST_DSN is not a DSN libpq reads: " + message);
  }
  // key='value' pairs, quotes and backslashes escaped as libpq's conninfo syntax wants.
  std::string out;
  auto add = [&out](const char* key, std::string_view value) {
    out += key;
    out += "='";
    for (char c : value) {
      if (c == '\'' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
    out += "' ";
  };
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "dbname") {
      continue;
    }
    if (o->val != nullptr) {
      add(o->keyword, o->val);
    }
  }
  add("dbname", dbname);
  out.pop_back();
  return out;
}

TestDatabase::TestDatabase(std::string_view label) : admin_dsn_(test_dsn()) {
  if (admin_dsn_.empty()) {
    throw std::runtime_error("BGPSCRIBE_TEST_DSN is not set (see BGPSCRIBE_REQUIRE_PG)");
  }
  static std::atomic<int> counter{0};
  name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_";
  for (char c : label) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    name_ += ok ? c : (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : '_');
  }
  name_.resize(std::min<std::size_t>(name_.size(), 63));  // PostgreSQL's NAMEDATALEN - 1
  pqxx::connection admin(admin_dsn_);
  pqxx::nontransaction tx(admin);
  tx.exec0("SET client_min_messages = warning");  // no "does not exist, skipping" on stderr
  // A leftover of a killed run with the same pid would make CREATE fail.
  tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  tx.exec0("CREATE DATABASE " + tx.quote_name(name_));
  dsn_ = with_dbname(admin_dsn_, name_);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(admin_dsn_);
    pqxx::nontransaction tx(admin);
    tx.exec0("SET client_min_messages = warning");
    tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The server went away; the cluster is thrown away with the build folder anyway.
  }
}

}  // namespace bgpscribe::tests
