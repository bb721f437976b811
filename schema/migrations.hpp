// The PostgreSQL archive's schema: the numbered migrations of schema/sql, embedded into the
// binary at build time, and the runner that brings a database up to date (`bgpscribe db
// migrate`, and the postgres exporter before it writes).
//
// A database's version is the highest version recorded in bgp.schema_version (0 when that
// table does not exist). Migrations are append-only: version N is schema/sql/NNNN_*.sql, and
// applying it once is all it ever needs. This module only creates and reads the schema; it
// must not write archive data, and it never applies a migration out of order or downgrades.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace bgpscribe::schema {

struct Migration {
  int version;            // N of schema/sql/NNNN_name.sql; 1, 2, 3, ... without gaps
  std::string_view name;  // the file name, e.g. "0001_archive.sql"
  std::string_view sql;   // the file's text
};

// Every embedded migration, in version order: migrations()[i].version == i + 1.
std::span<const Migration> migrations();

// The version the last embedded migration brings a database to.
int latest_version();

// The schema cannot be brought up to date: a database newer than this binary, a migration that
// PostgreSQL refused (the message names the file and quotes PostgreSQL), or no connection.
class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigrateResult {
  int from = 0;              // the database's version before
  int to = 0;                // and after
  std::vector<int> applied;  // versions applied by this call, in order (empty: up to date)
};

// Brings the database of `dsn` (empty: libpq's defaults and PG* environment variables) to
// latest_version(). Each migration runs in its own transaction that also records it in
// bgp.schema_version, under a transaction-scoped advisory lock, and the version is read again
// under that lock: two processes migrating at once apply each migration once, the second
// waiting for the first. Idempotent. Throws SchemaError when the database is newer than
// latest_version(), a migration fails (earlier ones of this call stay applied), or the
// connection fails.
MigrateResult migrate(const std::string& dsn);
MigrateResult migrate(pqxx::connection_base& connection);

// Migrates up to `target_version` only (at most latest_version()): for tests and for stepping
// through an upgrade. A database already past `target_version` is left as it is, and one past
// latest_version() is refused as above.
MigrateResult migrate(pqxx::connection_base& connection, int target_version);

// The database's schema version; 0 for a database without the bgp schema. Throws SchemaError
// when the connection fails.
int database_version(const std::string& dsn);
int database_version(pqxx::connection_base& connection);

}  // namespace bgpscribe::schema
