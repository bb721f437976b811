// NLRI blocks: validated once, then iterated without allocation (RFC 4271 4.3, RFC 4760 5,
// RFC 7911 3).
//
// IPv4/IPv6 unicast and multicast prefixes are decoded; every other AFI/SAFI is carried as raw
// bytes with its family. The prefix bytes are kept exactly as received (host bits included) so
// that tools can show what the router sent; Nlri::prefix() gives the masked value for RIBs.
// No allocation, no exceptions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/ip.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

// One decoded prefix entry of a plain-prefix family.
struct Nlri {
  std::uint32_t path_id = 0;  // 0 when ADD-PATH is not in use
  Afi afi = Afi::Ipv4;
  std::uint8_t length = 0;               // prefix length in bits
  std::array<std::uint8_t, 16> bytes{};  // as received; bytes past ceil(length/8) are zero

  // The prefix with host bits cleared (what a RIB keys on).
  [[nodiscard]] Prefix prefix() const;
  // The prefix exactly as received, host bits included.
  [[nodiscard]] Prefix raw_prefix() const;
  [[nodiscard]] bool host_bits_set() const;
};

// A validated block of NLRI for one family.
class NlriBlock {
 public:
  NlriBlock() = default;

  // RFC 4271 4.3 / RFC 4760 5 / RFC 7911 3: checks every entry of `r`'s remaining bytes.
  // `r` is consumed. For plain-prefix families a length above the family's maximum or an entry
  // that overruns the block is an error (UPDATE 3/10 Invalid Network Field, session reset; the
  // caller softens it for MP attributes). Other families are accepted as raw bytes.
  static Result<NlriBlock> parse(wire::Reader& r, AfiSafi family, bool add_path);
  // The same over a span whose first byte is at `offset` in the caller's buffer, decoding
  // into `out`: the hot-path form used for every UPDATE.
  static Status parse_into(std::span<const std::uint8_t> bytes, std::uint32_t offset,
                           AfiSafi family, bool add_path, NlriBlock& out);
  // Never fails: the block covers the leading entries that are whole and valid, and
  // `complete` says whether that was all of `r` (how lenient readers such as bgpdump treat a
  // truncated list). `r` is consumed.
  static NlriBlock parse_lenient(wire::Reader& r, AfiSafi family, bool add_path,
                                 bool* complete = nullptr);

  [[nodiscard]] AfiSafi family() const { return family_; }
  [[nodiscard]] bool add_path() const { return add_path_; }
  [[nodiscard]] bool decoded() const { return is_plain_prefix_family(family_); }
  [[nodiscard]] std::size_t count() const { return count_; }  // 0 for raw families
  [[nodiscard]] bool empty() const { return bytes_.empty(); }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return bytes_; }
  [[nodiscard]] std::uint32_t offset() const { return offset_; }

  class Iterator {
   public:
    using value_type = Nlri;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(std::span<const std::uint8_t> rest, Afi afi, bool add_path)
        : rest_(rest), afi_(afi), add_path_(add_path) {
      load();
    }
    const Nlri& operator*() const { return current_; }
    const Nlri* operator->() const { return &current_; }
    Iterator& operator++() {
      rest_ = rest_.subspan(step_);
      load();
      return *this;
    }
    Iterator operator++(int) {
      Iterator copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.rest_.size() == b.rest_.size();
    }

   private:
    void load();
    std::span<const std::uint8_t> rest_{};
    Afi afi_ = Afi::Ipv4;
    bool add_path_ = false;
    std::size_t step_ = 0;
    Nlri current_{};
  };

  // Iterates decoded entries; empty for raw families.
  [[nodiscard]] Iterator begin() const {
    return decoded() ? Iterator(bytes_, family_.afi, add_path_) : end();
  }
  [[nodiscard]] Iterator end() const { return Iterator({}, family_.afi, add_path_); }

 private:
  std::span<const std::uint8_t> bytes_{};
  AfiSafi family_{};
  bool add_path_ = false;
  std::size_t count_ = 0;
  std::uint32_t offset_ = 0;
};

// Encodes one prefix entry (RFC 4271 4.3, RFC 7911 3). The prefix's bytes are written as given.
void encode_nlri(wire::Writer& w, const Prefix& prefix, std::uint32_t path_id, bool add_path);

// Max prefix length of a plain family: 32 or 128.
constexpr std::uint8_t max_prefix_length(Afi afi) {
  return afi == Afi::Ipv6 ? 128 : 32;
}

}  // namespace bgpscribe::codec::bgp
