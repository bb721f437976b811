// A thin libpq connection for the exporter's writer: statements with parameters and binary
// COPY. libpq directly because libpqxx 6.4 has no binary COPY (its stream_to is text only) and
// the writer needs to tell a broken connection from a refused statement.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace bgpscribe::exporters::postgres {

// A failed statement or connection. `connection_lost`: the session is gone (reconnect and
// retry); otherwise the server refused the statement (the transaction is aborted).
class PgError : public std::runtime_error {
 public:
  PgError(const std::string& what, bool connection_lost, std::string sqlstate = {})
      : std::runtime_error(what), lost_(connection_lost), sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] bool connection_lost() const { return lost_; }
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }

 private:
  bool lost_;
  std::string sqlstate_;
};

// Parameters of one statement: text values (NULL as nullopt) or binary bytea values.
class PgParams {
 public:
  PgParams& text(std::string v);
  PgParams& null();
  PgParams& integer(std::int64_t v) { return text(std::to_string(v)); }
  PgParams& bytes(std::span<const std::uint8_t> v);
  // A text[] literal ({"a","b"}), or NULL for nullopt.
  PgParams& text_array(const std::optional<std::vector<std::string>>& v);

  [[nodiscard]] int count() const { return static_cast<int>(values_.size()); }
  [[nodiscard]] std::vector<const char*> values() const;
  [[nodiscard]] std::vector<int> lengths() const;
  [[nodiscard]] std::vector<int> formats() const;

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;
};

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
  [[nodiscard]] bool is_null(int row, int col) const {
    return PQgetisnull(r_.get(), row, col) != 0;
  }
  [[nodiscard]] std::string get(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  [[nodiscard]] std::int64_t integer(int row, int col) const;
  // Rows affected by INSERT / UPDATE / DELETE.
  [[nodiscard]] std::uint64_t affected() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

class PgConnection {
 public:
  PgConnection() = default;
  ~PgConnection() { close(); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Connects (an empty DSN means libpq's defaults and PG* environment variables) within
  // `timeout_s` seconds; throws PgError.
  void connect(const std::string& dsn, int timeout_s);
  void close();
  [[nodiscard]] bool connected() const {
    return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
  }
  // Inside a transaction block (open or failed): a ROLLBACK has something to end.
  [[nodiscard]] bool in_transaction() const {
    if (conn_ == nullptr) {
      return false;
    }
    const auto s = PQtransactionStatus(conn_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
  }
  // Ends the transaction block if there is one (without the server's "there is no transaction
  // in progress" warning otherwise); closes the connection if even that fails.
  void rollback() {
    if (!in_transaction()) {
      return;
    }
    try {
      exec("ROLLBACK");
    } catch (const std::exception&) {
      close();
    }
  }

  // Runs a statement; throws PgError when it fails.
  PgResult exec(const std::string& sql);
  PgResult exec(const std::string& sql, const PgParams& params);
  // COPY ... FROM STDIN (FORMAT binary) with `data` (header, tuples, trailer); returns rows.
  std::uint64_t copy_in(const std::string& sql, std::span<const std::uint8_t> data);

 private:
  [[noreturn]] void fail(const std::string& what, PGresult* r = nullptr);
  PgResult check(PGresult* r, const std::string& what);
  PGconn* conn_ = nullptr;
};

}  // namespace bgpscribe::exporters::postgres
