#include "schema/migrations.hpp"

#include <pqxx/pqxx>

#include <string>

namespace bgpscribe::schema {

namespace detail {
// Defined in the file that embed_migrations.cmake generates from schema/sql at build time.
std::span<const Migration> embedded_migrations();
}  // namespace detail

namespace {

// The key of the advisory lock that serialises migrations: 'bgp-migr' in ASCII. The partition
// functions of 0001 use 'bgp-part'; keys of the same shape keep them apart.
constexpr long long kMigrateLockKey = 0x6267702d6d696772LL;

// libpq messages end in a newline (sometimes with a LINE/caret excerpt before it): keep the
// excerpt, drop the trailing blank.
std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::string file_of(int version) {
  const auto all = migrations();
  if (version >= 1 && static_cast<std::size_t>(version) <= all.size()) {
    return std::string(all[static_cast<std::size_t>(version) - 1].name);
  }
  return "version " + std::to_string(version);
}

int read_version(pqxx::transaction_base& tx) {
  // to_regclass: NULL instead of an error (which would abort the transaction) when absent.
  const pqxx::row exists = tx.exec1("SELECT to_regclass('bgp.schema_version') IS NOT NULL");
  if (!exists[0].as<bool>()) {
    return 0;
  }
  return tx.exec1("SELECT coalesce(max(version), 0) FROM bgp.schema_version")[0].as<int>();
}

void refuse_newer(int database) {
  if (database > latest_version()) {
    throw SchemaError("the database's schema is version " + std::to_string(database) +
                      ", newer than this bgpscribe knows (version " +
                      std::to_string(latest_version()) + ", " + file_of(latest_version()) +
                      "): a newer bgpscribe wrote it; run that version (or newer) against this "
                      "database, or give this one another database");
  }
}

template <typename F>
auto with_connection(const std::string& dsn, F&& f) {
  try {
    pqxx::connection connection(dsn);
    return f(connection);
  } catch (const pqxx::broken_connection& e) {
    throw SchemaError("cannot connect to PostgreSQL: " + trim(e.what()));
  }
}

}  // namespace

std::span<const Migration> migrations() {
  return detail::embedded_migrations();
}

int latest_version() {
  return static_cast<int>(migrations().size());
}

int database_version(pqxx::connection_base& connection) {
  try {
    pqxx::read_transaction tx(connection, "bgpscribe schema version");
    return read_version(tx);
  } catch (const pqxx::broken_connection& e) {
    throw SchemaError("lost the connection to PostgreSQL reading the schema version: " +
                      trim(e.what()));
  } catch (const pqxx::sql_error& e) {
    throw SchemaError("cannot read the schema version (bgp.schema_version): " + trim(e.what()));
  }
}

int database_version(const std::string& dsn) {
  return with_connection(dsn, [](pqxx::connection_base& c) { return database_version(c); });
}

MigrateResult migrate(pqxx::connection_base& connection, int target_version) {
  if (target_version < 0 || target_version > latest_version()) {
    throw SchemaError("cannot migrate to version " + std::to_string(target_version) +
                      ": this bgpscribe knows versions 1 to " + std::to_string(latest_version()));
  }
  MigrateResult result;
  bool first = true;
  // One transaction per migration; each one reads the version again under the lock, so a
  // concurrent migrator's work is seen, never redone.
  for (;;) {
    const Migration* next = nullptr;
    try {
      pqxx::work tx(connection, "bgpscribe migrate");
      // NOTICEs (e.g. "schema already exists, skipping") would go to stderr through libpqxx.
      tx.exec0("SET LOCAL client_min_messages = warning");
      tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrateLockKey) + ")");
      const int current = read_version(tx);
      if (first) {
        result.from = current;
        first = false;
      }
      refuse_newer(current);
      result.to = current;
      if (current >= target_version) {
        tx.commit();
        return result;
      }
      next = &migrations()[static_cast<std::size_t>(current)];
      // A multi-statement text runs through the simple query protocol; PostgreSQL's "LINE n"
      // in an error counts lines of the file.
      tx.exec(std::string(next->sql));
      tx.exec_params0("INSERT INTO bgp.schema_version (version, name) VALUES ($1, $2)",
                      next->version, std::string(next->name));
      tx.commit();
    } catch (const SchemaError&) {
      throw;
    } catch (const pqxx::broken_connection& e) {
      throw SchemaError("lost the connection to PostgreSQL while migrating" +
                        (next != nullptr ? " with " + std::string(next->name) : std::string()) +
                        ": " + trim(e.what()));
    } catch (const pqxx::failure& e) {
      if (next == nullptr) {
        throw SchemaError("cannot read or lock the schema version: " + trim(e.what()));
      }
      throw SchemaError("migration " + std::string(next->name) + " failed; the database stays at " +
                        "version " + std::to_string(next->version - 1) + ": " + trim(e.what()));
    }
    result.applied.push_back(next->version);
    result.to = next->version;
  }
}

MigrateResult migrate(pqxx::connection_base& connection) {
  return migrate(connection, latest_version());
}

MigrateResult migrate(const std::string& dsn) {
  return with_connection(dsn, [](pqxx::connection_base& c) { return migrate(c); });
}

}  // namespace bgpscribe::schema
