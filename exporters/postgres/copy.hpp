// PostgreSQL's binary COPY format (COPY ... FROM STDIN (FORMAT binary), "Binary Format" in the
// COPY reference): the exporter's batches are built in it, spooled in it and streamed as is.
//
// Binary rather than text because the server then skips parsing timestamps, addresses and
// arrays from text, the largest part of its COPY cost for the update log. Only the types the
// archive uses are here; every value is written in network byte order as the server's
// *_send functions do (timestamptz: microseconds since 2000-01-01 UTC; cidr/inet: family,
// bits, is_cidr, length, address octets; arrays: dimensions, flags, element type OID, then
// length-prefixed elements).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "codec/bgp/ip.hpp"

namespace bgpscribe::exporters::postgres {

// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 00:00 UTC).
inline constexpr std::int64_t kPostgresEpochUs = 946'684'800'000'000;

// The family octet of a binary inet/cidr: PGSQL_AF_INET / PGSQL_AF_INET6 of the server's
// inet_send (AF_INET + 0 / + 1).
inline constexpr std::uint8_t kPgAfInet = 2;
inline constexpr std::uint8_t kPgAfInet6 = 3;

// Type OIDs of array elements (pg_type.oid; fixed since PostgreSQL 7).
inline constexpr std::uint32_t kOidInt8 = 20;
inline constexpr std::uint32_t kOidText = 25;
inline constexpr std::uint32_t kOidInet = 869;

class CopyWriter {
 public:
  CopyWriter() { clear(); }
  // Starts over with only the file header.
  void clear();
  // Starts a tuple of `fields` fields; exactly that many field calls must follow.
  void row(std::uint16_t fields) {
    put16(fields);
    ++rows_;
  }
  void null() { put32(0xFFFFFFFFU); }
  void int2(std::int16_t v) {
    put32(2);
    put16(static_cast<std::uint16_t>(v));
  }
  void int4(std::int32_t v) {
    put32(4);
    put32(static_cast<std::uint32_t>(v));
  }
  void int8(std::int64_t v) {
    put32(8);
    put64(static_cast<std::uint64_t>(v));
  }
  void boolean(bool v) {
    put32(1);
    buf_.push_back(v ? 1 : 0);
  }
  // Unix time in microseconds as timestamptz.
  void timestamptz(std::int64_t unix_us) { int8(unix_us - kPostgresEpochUs); }
  void text(std::string_view s);
  void bytea(std::span<const std::uint8_t> b);
  // inet (is_cidr false) or cidr; `bits` is the mask length (32/128 for a host address).
  void inet(const codec::bgp::IpAddress& a, std::uint8_t bits, bool is_cidr);
  void cidr(const codec::bgp::Prefix& p) { inet(p.address, p.length, true); }
  void int8_array(std::span<const std::int64_t> values);
  void text_array(std::span<const std::string> values);
  void inet_array(std::span<const codec::bgp::IpAddress> values);

  // The COPY data so far with the trailer; the writer stays usable (the trailer is removed by
  // the next row()). Empty span when no row was written.
  [[nodiscard]] std::span<const std::uint8_t> finish();
  [[nodiscard]] std::size_t rows() const { return rows_; }
  [[nodiscard]] std::size_t size() const { return buf_.size(); }

 private:
  // One range insert per value: a capacity check instead of one per octet (the rows of a
  // table load are a few hundred MB of these).
  void put16(std::uint16_t v) {
    trim();
    const std::array<std::uint8_t, 2> b{static_cast<std::uint8_t>(v >> 8),
                                        static_cast<std::uint8_t>(v)};
    buf_.insert(buf_.end(), b.begin(), b.end());
  }
  void put32(std::uint32_t v) {
    trim();
    const std::array<std::uint8_t, 4> b{
        static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
        static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    buf_.insert(buf_.end(), b.begin(), b.end());
  }
  void put64(std::uint64_t v) {
    std::array<std::uint8_t, 8> b{};
    for (std::size_t i = 0; i < 8; ++i) {
      b[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
    }
    buf_.insert(buf_.end(), b.begin(), b.end());
  }
  // Drops the trailer finish() appended, if any.
  void trim() {
    if (finished_) {
      buf_.resize(buf_.size() - 2);
      finished_ = false;
    }
  }
  void array_header(std::uint32_t oid, std::size_t count, std::size_t payload);
  void inet_value(const codec::bgp::IpAddress& a, std::uint8_t bits, bool is_cidr);

  std::vector<std::uint8_t> buf_;
  std::size_t rows_ = 0;
  bool finished_ = false;
};

// Walks the tuples of binary COPY data (header skipped), for rewriting fields in place: the
// spooled batches carry batch-local peer numbers that become database peer ids on the way out.
class CopyTuples {
 public:
  explicit CopyTuples(std::span<std::uint8_t> data);
  // The next tuple's fields as (offset of the value, length or -1); false at the end.
  bool next(std::vector<std::pair<std::size_t, std::int32_t>>& fields);
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  std::span<std::uint8_t> data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace bgpscribe::exporters::postgres
