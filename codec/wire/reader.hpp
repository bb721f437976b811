// Reader: the checked cursor through which all codec parsers read wire bytes.
//
// Every read is bounds-checked and big-endian; a failed read returns a Truncated error with
// the absolute offset of the read and leaves the cursor where it was. sub(n) hands out a child
// reader bounded to the next n bytes (one per TLV, attribute, capability or NLRI block) whose
// offsets stay absolute, so an error deep inside a message still says where in the whole buffer
// it happened. No sockets, no allocation, no exceptions.
//
// load_u16/load_u32(bytes, at) serve views that validated once at parse time and decode lazily:
// they are checked too, but an index out of bounds there is our bug, not bad input, so it aborts
// (see load_out_of_bounds) instead of returning an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "codec/wire/result.hpp"

namespace bgpscribe::codec::wire {

using Bytes = std::span<const std::uint8_t>;

// The bytes of a text, for writers and checksums that take bytes (char and std::uint8_t may
// alias, so this is the one reinterpret_cast such code needs).
inline Bytes text_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT(*-reinterpret-cast)
}

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
    std::uint32_t v = load_u32_unchecked(data_.data() + pos_);
    pos_ += 4;
    return v;
  }
  Result<std::uint64_t> u64() {
    if (remaining() < 8) {
      return truncated();
    }
    std::uint64_t v = (std::uint64_t{load_u32_unchecked(data_.data() + pos_)} << 32) |
                      load_u32_unchecked(data_.data() + pos_ + 4);
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

  friend std::uint16_t load_u16(Bytes b, std::size_t at);
  friend std::uint32_t load_u32(Bytes b, std::size_t at);
  friend class BigEndianArray;

 private:
  // Big-endian loads from raw memory that check nothing: private, so that only this class and
  // the checked load_u16/load_u32 below, which did check the bounds, can call them.
  static std::uint32_t load_u32_unchecked(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
  }
  static std::uint16_t load_u16_unchecked(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
  }

  Bytes data_{};
  std::size_t pos_ = 0;
  std::uint32_t base_ = 0;
};

// Reports a load past the end of its span on stderr (width, offset, span size) and
// aborts. Such a load breaks an invariant of the caller (the bytes were validated when parsed),
// so it is not an Error for the input; and aborting rather than throwing keeps the codec free of
// exceptions and each load's fast path one compare and a branch to this cold, out-of-line call.
// Active in every build type, unlike assert.
[[noreturn, gnu::cold]] void load_out_of_bounds(std::size_t at, std::size_t width,
                                                std::size_t size);

// Checked big-endian loads from a span at an index, for views that validated once at parse time
// and then decode lazily: an index past the end aborts (load_out_of_bounds).
inline std::uint16_t load_u16(Bytes b, std::size_t at) {
  if (b.size() < 2 || at > b.size() - 2) [[unlikely]] {
    load_out_of_bounds(at, 2, b.size());
  }
  return Reader::load_u16_unchecked(b.data() + at);
}
inline std::uint32_t load_u32(Bytes b, std::size_t at) {
  if (b.size() < 4 || at > b.size() - 4) [[unlikely]] {
    load_out_of_bounds(at, 4, b.size());
  }
  return Reader::load_u32_unchecked(b.data() + at);
}

// The N bytes of `b` at `at` as a span of fixed size, checked like the loads above: the loads
// from it at constant offsets (a record's fixed fields) then need no check of their own.
template <std::size_t N>
std::span<const std::uint8_t, N> fixed_span(Bytes b, std::size_t at) {
  if (b.size() < N || at > b.size() - N) [[unlikely]] {
    load_out_of_bounds(at, N, b.size());
  }
  return std::span<const std::uint8_t, N>(b.subspan(at, N));
}

// The big-endian integers of `width` octets (2 or 4) that make up a span: the ASNs of an
// AS_PATH segment, the values of a COMMUNITIES list. Its size counts whole values (a partial
// one at the end is left out), so the bounds are checked once, when it is made, and an index
// against size() once more: a loop up to size() costs no check per value.
class BigEndianArray {
 public:
  BigEndianArray(Bytes bytes, std::size_t width)
      : data_(bytes.data()),
        four_(width == 4),
        size_(four_ ? bytes.size() / 4 : bytes.size() / 2),
        bytes_(bytes.size()) {}

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t width() const { return four_ ? 4 : 2; }
  // Value i; i >= size() aborts (load_out_of_bounds).
  [[nodiscard]] std::uint32_t operator[](std::size_t i) const {
    if (i >= size_) [[unlikely]] {
      load_out_of_bounds(i * width(), width(), bytes_);
    }
    return at(i);
  }

  class Iterator {
   public:
    std::uint32_t operator*() const {
      return four_ ? Reader::load_u32_unchecked(p_) : Reader::load_u16_unchecked(p_);
    }
    Iterator& operator++() {
      p_ += four_ ? 4 : 2;
      return *this;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.p_ == b.p_; }

   private:
    friend class BigEndianArray;
    Iterator(const std::uint8_t* p, bool four) : p_(p), four_(four) {}
    const std::uint8_t* p_;
    bool four_;
  };
  [[nodiscard]] Iterator begin() const { return {data_, four_}; }
  [[nodiscard]] Iterator end() const { return {data_ + size_ * width(), four_}; }

 private:
  [[nodiscard]] std::uint32_t at(std::size_t i) const {
    return four_ ? Reader::load_u32_unchecked(data_ + i * 4)
                 : Reader::load_u16_unchecked(data_ + i * 2);
  }

  const std::uint8_t* data_;
  bool four_;
  std::size_t size_;
  std::size_t bytes_;
};

}  // namespace bgpscribe::codec::wire
