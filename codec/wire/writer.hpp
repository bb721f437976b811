// Writer: the growable big-endian byte sink that all codec encoders write into.
//
// Callers own the Writer and reuse it (clear() keeps capacity). Length fields that precede
// their content are written as placeholders and patched afterwards. The Writer itself does not
// know protocol limits; encoders check them and return errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace bgpscribe::codec::wire {

class Writer {
 public:
  Writer() = default;
  explicit Writer(std::size_t reserve) { buf_.reserve(reserve); }

  void clear() { buf_.clear(); }
  void reserve(std::size_t n) { buf_.reserve(n); }
  [[nodiscard]] std::size_t size() const { return buf_.size(); }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return buf_; }
  [[nodiscard]] const std::vector<std::uint8_t>& buffer() const { return buf_; }
  std::vector<std::uint8_t> take() { return std::move(buf_); }

  void u8(std::uint8_t v) { buf_.push_back(v); }
  void u16(std::uint16_t v) { put_be<2>(v); }
  void u24(std::uint32_t v) { put_be<3>(v); }
  void u32(std::uint32_t v) { put_be<4>(v); }
  void u64(std::uint64_t v) { put_be<8>(v); }
  void bytes(std::span<const std::uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void fill(std::size_t n, std::uint8_t v) { buf_.insert(buf_.end(), n, v); }

  // Placeholders for length fields written before their content is known.
  std::size_t placeholder_u8() {
    buf_.push_back(0);
    return buf_.size() - 1;
  }
  std::size_t placeholder_u16() {
    u16(0);
    return buf_.size() - 2;
  }
  std::size_t placeholder_u32() {
    u32(0);
    return buf_.size() - 4;
  }
  void patch_u8(std::size_t at, std::uint8_t v) { buf_[at] = v; }
  void patch_u16(std::size_t at, std::uint16_t v) {
    buf_[at] = static_cast<std::uint8_t>(v >> 8);
    buf_[at + 1] = static_cast<std::uint8_t>(v);
  }
  void patch_u32(std::size_t at, std::uint32_t v) {
    buf_[at] = static_cast<std::uint8_t>(v >> 24);
    buf_[at + 1] = static_cast<std::uint8_t>(v >> 16);
    buf_[at + 2] = static_cast<std::uint8_t>(v >> 8);
    buf_[at + 3] = static_cast<std::uint8_t>(v);
  }
  // Bytes written since position `from`, for patching lengths.
  [[nodiscard]] std::size_t since(std::size_t from) const { return buf_.size() - from; }

 private:
  // One size check per field instead of one per byte (push_back): the journal and the MRT
  // exporter write several fields per record.
  template <std::size_t N>
  void put_be(std::uint64_t v) {
    const std::size_t at = buf_.size();
    buf_.resize(at + N);
    std::uint8_t* p = buf_.data() + at;
    for (std::size_t i = 0; i < N; ++i) {
      p[N - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));  // NOLINT(*-pointer-arithmetic)
    }
  }

  std::vector<std::uint8_t> buf_;
};

}  // namespace bgpscribe::codec::wire
