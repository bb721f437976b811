// Reader: the checked cursor through which all codec parsers read wire bytes.
//
// Every read is bounds-checked and big-endian; a failed read returns a Truncated error with
// the absolute offset of the read and leaves the cursor where it was. sub(n) hands out a child
// reader bounded to the next n bytes (one per TLV, attribute, capability or NLRI block) whose
// offsets stay absolute, so an error deep inside a message still says where in the whole buffer
// it happened. No sockets, no allocation, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "codec/wire/result.hpp"

namespace bgpscribe::codec::wire {

using Bytes = std::span<const std::uint8_t>;

class Reader {
 public:
  Reader() = default;
  explicit Reader(Bytes data, std::uint32_t base_offset = 0) : data_(data), base_(base_offset) {}

  [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }
  [[nodiscard]] bool empty() const { return pos_ == data_.size(); }
  [[nodiscard]] std::size_t position() const { return pos_; }
  // Absolute offset of the cursor in the top-level buffer.
  [[nodiscard]] std::uint32_t offset() const { return base_ + static_cast<std::uint32_t>(pos_); }
  [[nodiscard]] std::uint32_t base_offset() const { return base_; }
  // The unread bytes, without consuming them.
  [[nodiscard]] Bytes rest() const { return data_.subspan(pos_); }
  [[nodiscard]] Bytes whole() const { return data_; }

  Result<std::uint8_t> u8() {
    if (remaining() < 1) {
      return truncated();
    }
    return data_[pos_++];
  }
  Result<std::uint16_t> u16() {
    if (remaining() < 2) {
      return truncated();
    }
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  Result<std::uint32_t> u24() {
    if (remaining() < 3) {
      return truncated();
    }
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 16) | (std::uint32_t{data_[pos_ + 1]} << 8) |
                      std::uint32_t{data_[pos_ + 2]};
    pos_ += 3;
    return v;
  }
  Result<std::uint32_t> u32() {
    if (remaining() < 4) {
      return truncated();
    }
    std::uint32_t v = load_u32(data_.data() + pos_);
    pos_ += 4;
    return v;
  }
  Result<std::uint64_t> u64() {
    if (remaining() < 8) {
      return truncated();
    }
    std::uint64_t v =
        (std::uint64_t{load_u32(data_.data() + pos_)} << 32) | load_u32(data_.data() + pos_ + 4);
    pos_ += 8;
    return v;
  }
  // The next n bytes as a span, consumed.
  Result<Bytes> bytes(std::size_t n) {
    if (remaining() < n) {
      return truncated();
    }
    Bytes b = data_.subspan(pos_, n);
    pos_ += n;
    return b;
  }
  // A child reader over the next n bytes, consumed from this one.
  Result<Reader> sub(std::size_t n) {
    if (remaining() < n) {
      return truncated();
    }
    Reader r(data_.subspan(pos_, n), offset());
    pos_ += n;
    return r;
  }
  Status skip(std::size_t n) {
    if (remaining() < n) {
      return truncated();
    }
    pos_ += n;
    return {};
  }
  // Peeks without consuming; the caller must have checked remaining().
  [[nodiscard]] std::uint8_t peek_u8(std::size_t ahead = 0) const { return data_[pos_ + ahead]; }

  // Succeeds only if every byte was consumed.
  Status expect_end(const char* message = "trailing bytes") const {
    if (!empty()) {
      return fail(ErrorKind::BadLength, offset(), message);
    }
    return {};
  }

  [[nodiscard]] Failure truncated(const char* message = "truncated") const {
    return fail(ErrorKind::Truncated, offset(), message);
  }

  // Big-endian loads from raw memory, for callers that already checked the bounds (the one
  // place outside this class where pointer arithmetic on wire bytes is allowed is codec/wire).
  static std::uint32_t load_u32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
  }
  static std::uint16_t load_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
  }

 private:
  Bytes data_{};
  std::size_t pos_ = 0;
  std::uint32_t base_ = 0;
};

// Checked big-endian loads from a span at an index; used by views that validated once at
// parse time and then decode lazily.
inline std::uint16_t load_u16(Bytes b, std::size_t at) {
  return Reader::load_u16(b.data() + at);
}
inline std::uint32_t load_u32(Bytes b, std::size_t at) {
  return Reader::load_u32(b.data() + at);
}

}  // namespace bgpscribe::codec::wire
