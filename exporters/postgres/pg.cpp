#include "exporters/postgres/pg.hpp"

#include <cstdlib>

namespace bgpscribe::exporters::postgres {

PgParams& PgParams::text(std::string v) {
  values_.emplace_back(std::move(v));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::null() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::bytes(std::span<const std::uint8_t> v) {
  values_.emplace_back(std::string(v.begin(), v.end()));
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::text_array(const std::optional<std::vector<std::string>>& v) {
  if (!v) {
    return null();
  }
  // Array literal: every element double-quoted, with " and \ escaped.
  std::string s = "{";
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (i > 0) {
      s += ',';
    }
    s += '"';
    for (const char c : (*v)[i]) {
      if (c == '"' || c == '\\') {
        s += '\\';
      }
      s += c;
    }
    s += '"';
  }
  s += '}';
  return text(std::move(s));
}

std::vector<const char*> PgParams::values() const {
  std::vector<const char*> v;
  for (const auto& x : values_) {
    v.push_back(x ? x->data() : nullptr);
  }
  return v;
}

std::vector<int> PgParams::lengths() const {
  std::vector<int> v;
  for (const auto& x : values_) {
    v.push_back(x ? static_cast<int>(x->size()) : 0);
  }
  return v;
}

std::vector<int> PgParams::formats() const {
  return formats_;
}

std::int64_t PgResult::integer(int row, int col) const {
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

std::uint64_t PgResult::affected() const {
  return std::strtoull(PQcmdTuples(r_.get()), nullptr, 10);
}

void PgConnection::connect(const std::string& dsn, int timeout_s) {
  close();
  // connect_timeout given as a separate keyword so the user's DSN (or URI) stays untouched.
  const std::string timeout = std::to_string(timeout_s);
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {dsn.c_str(), timeout.c_str(), "bgpscribe", nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
      msg.pop_back();
    }
    close();
    throw PgError("cannot connect to PostgreSQL" +
                      (dsn.empty() ? std::string(" (libpq defaults)") : " (" + dsn + ")") + ": " +
                      msg,
                  true);
  }
}

void PgConnection::close() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

void PgConnection::fail(const std::string& what, PGresult* r) {
  std::string msg = r != nullptr ? PQresultErrorMessage(r) : "";
  if (msg.empty() && conn_ != nullptr) {
    msg = PQerrorMessage(conn_);
  }
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
    msg.pop_back();
  }
  std::string state;
  if (r != nullptr) {
    if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) {
      state = s;
    }
    PQclear(r);
  }
  const bool lost = conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK ||
                    state.rfind("08", 0) == 0 ||  // connection exceptions
                    state == "57P01" || state == "57P02" || state == "57P03";  // shutdown
  throw PgError(what + ": " + msg, lost, state);
}

PgResult PgConnection::check(PGresult* r, const std::string& what) {
  const auto status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(what, r);
  }
  return PgResult(r);
}

PgResult PgConnection::exec(const std::string& sql) {
  if (conn_ == nullptr) {
    throw PgError("not connected", true);
  }
  return check(PQexec(conn_, sql.c_str()), sql.substr(0, 60));
}

PgResult PgConnection::exec(const std::string& sql, const PgParams& params) {
  if (conn_ == nullptr) {
    throw PgError("not connected", true);
  }
  const auto values = params.values();
  const auto lengths = params.lengths();
  const auto formats = params.formats();
  return check(PQexecParams(conn_, sql.c_str(), params.count(), nullptr, values.data(),
                            lengths.data(), formats.data(), 0),
               sql.substr(0, 60));
}

std::uint64_t PgConnection::copy_in(const std::string& sql, std::span<const std::uint8_t> data) {
  if (conn_ == nullptr) {
    throw PgError("not connected", true);
  }
  PGresult* r = PQexec(conn_, sql.c_str());
  if (r == nullptr || PQresultStatus(r) != PGRES_COPY_IN) {
    fail(sql.substr(0, 60), r);
  }
  PQclear(r);
  // Chunks of 1 MiB: PQputCopyData buffers and sends; a blocking connection waits for room.
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t at = 0; at < data.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, data.size() - at);
    // libpq takes the bytes as char.
    const auto* chunk = reinterpret_cast<const char*>(  // NOLINT(*-reinterpret-cast)
        data.subspan(at, n).data());
    if (PQputCopyData(conn_, chunk, static_cast<int>(n)) != 1) {
      fail(sql.substr(0, 60));
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) {
    fail(sql.substr(0, 60));
  }
  std::uint64_t rows = 0;
  while ((r = PQgetResult(conn_)) != nullptr) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      // Drain what is left so the connection is usable for ROLLBACK.
      PGresult* rest = nullptr;
      while ((rest = PQgetResult(conn_)) != nullptr) {
        PQclear(rest);
      }
      fail(sql.substr(0, 60), r);
    }
    rows += std::strtoull(PQcmdTuples(r), nullptr, 10);
    PQclear(r);
  }
  return rows;
}

}  // namespace bgpscribe::exporters::postgres
