#include "exporters/postgres/copy.hpp"

#include <array>

#include "codec/wire/reader.hpp"

namespace bgpscribe::exporters::postgres {

namespace {

// "PGCOPY\n\377\r\n\0", flags (no OIDs), header extension length.
constexpr std::array<std::uint8_t, 19> kHeader{'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xFF, '\r', '\n',
                                               0,   0,   0,   0,   0,   0,   0,    0,    0};

}  // namespace

void CopyWriter::clear() {
  buf_.assign(kHeader.begin(), kHeader.end());
  rows_ = 0;
  finished_ = false;
}

void CopyWriter::text(std::string_view s) {
  put32(static_cast<std::uint32_t>(s.size()));
  buf_.insert(buf_.end(), s.begin(), s.end());
}

void CopyWriter::bytea(std::span<const std::uint8_t> b) {
  put32(static_cast<std::uint32_t>(b.size()));
  buf_.insert(buf_.end(), b.begin(), b.end());
}

void CopyWriter::inet_value(const codec::bgp::IpAddress& a, std::uint8_t bits, bool is_cidr) {
  const auto bytes = a.span();
  buf_.push_back(a.is_v4() ? kPgAfInet : kPgAfInet6);
  buf_.push_back(bits);
  buf_.push_back(is_cidr ? 1 : 0);
  buf_.push_back(static_cast<std::uint8_t>(bytes.size()));
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

void CopyWriter::inet(const codec::bgp::IpAddress& a, std::uint8_t bits, bool is_cidr) {
  put32(static_cast<std::uint32_t>(4 + a.size()));
  inet_value(a, bits, is_cidr);
}

void CopyWriter::array_header(std::uint32_t oid, std::size_t count, std::size_t payload) {
  // Length of the whole array value: ndim, has-null flag, element OID, one dimension (size and
  // lower bound), then the elements (4-octet length each plus payload).
  const std::size_t length = count == 0 ? 12 : 20 + 4 * count + payload;
  put32(static_cast<std::uint32_t>(length));
  put32(count == 0 ? 0 : 1);
  put32(0);
  put32(oid);
  if (count > 0) {
    put32(static_cast<std::uint32_t>(count));
    put32(1);
  }
}

void CopyWriter::int8_array(std::span<const std::int64_t> values) {
  array_header(kOidInt8, values.size(), 8 * values.size());
  for (const auto v : values) {
    put32(8);
    put64(static_cast<std::uint64_t>(v));
  }
}

void CopyWriter::text_array(std::span<const std::string> values) {
  std::size_t payload = 0;
  for (const auto& v : values) {
    payload += v.size();
  }
  array_header(kOidText, values.size(), payload);
  for (const auto& v : values) {
    put32(static_cast<std::uint32_t>(v.size()));
    buf_.insert(buf_.end(), v.begin(), v.end());
  }
}

void CopyWriter::inet_array(std::span<const codec::bgp::IpAddress> values) {
  std::size_t payload = 0;
  for (const auto& v : values) {
    payload += 4 + v.size();
  }
  array_header(kOidInet, values.size(), payload);
  for (const auto& v : values) {
    put32(static_cast<std::uint32_t>(4 + v.size()));
    inet_value(v, v.is_v4() ? 32 : 128, false);
  }
}

std::span<const std::uint8_t> CopyWriter::finish() {
  if (rows_ == 0) {
    return {};
  }
  if (!finished_) {
    buf_.push_back(0xFF);  // trailer: field count -1
    buf_.push_back(0xFF);
    finished_ = true;
  }
  return buf_;
}

CopyTuples::CopyTuples(std::span<std::uint8_t> data) : data_(data), pos_(kHeader.size()) {
  ok_ = data.size() >= kHeader.size() + 2;
}

bool CopyTuples::next(std::vector<std::pair<std::size_t, std::int32_t>>& fields) {
  fields.clear();

  if (!ok_ || pos_ + 2 > data_.size()) {
    ok_ = false;
    return false;
  }
  const auto count = static_cast<std::int16_t>(codec::wire::load_u16(data_, pos_));
  pos_ += 2;
  if (count == -1) {
    return false;
  }
  for (int i = 0; i < count; ++i) {
    if (pos_ + 4 > data_.size()) {
      ok_ = false;
      return false;
    }
    const auto length = static_cast<std::int32_t>(codec::wire::load_u32(data_, pos_));
    pos_ += 4;
    fields.emplace_back(pos_, length);
    if (length > 0) {
      if (pos_ + static_cast<std::size_t>(length) > data_.size()) {
        ok_ = false;
        return false;
      }
      pos_ += static_cast<std::size_t>(length);
    }
  }
  return true;
}

}  // namespace bgpscribe::exporters::postgres
