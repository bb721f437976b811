// The --scale rewrite of `bgpscribe replay`: every prefix becomes N distinct prefixes of the same
// length, so that a small real sample becomes a full-table-sized feed (docs/replay.md).
//
// Copy 0 is the prefix itself. Copies 1..N-1 of a prefix of length L are drawn from a "domain"
// of L-bit network numbers (IPv4: first octet 1-223 except 10 and 127; IPv6: 2000::/3; the key
// is the whole network for IPv4 and the first min(L, 64) bits for IPv6, longer IPv6 prefixes keep
// their remaining bits). Inside the domain, an affine bijection x = (a*u + b) mod |domain| mixes
// the bits; the u values of the input prefixes are reserved, and copy k of the prefix with rank i
// (its index among the distinct input keys of its family and length) takes the j-th free u,
// j = (k-1)*m + i (m = number of distinct keys). Hence: deterministic for a given input, never
// equal to an input prefix or to another copy, the same copies for the same prefix on every peer,
// and random access (no table of outputs). A copy that does not fit the domain (more copies than
// free network numbers, e.g. /8s at a large N) is not made: the caller counts it.
// No I/O, no parsing of wire formats.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "codec/bgp/ip.hpp"

namespace bgpscribe::tools {

class ScaleMap {
 public:
  // Collects the input prefixes (any order, duplicates allowed), then freezes.
  void add(const codec::bgp::Prefix& prefix);
  void freeze();

  // The rank of an input prefix among the distinct keys of its family and length (valid after
  // freeze(); the prefix must have been added).
  [[nodiscard]] std::uint32_t rank(const codec::bgp::Prefix& prefix) const;
  // Copy `k` (0 = the prefix itself) of an input prefix of rank `rank`; nullopt when the domain
  // has no room for it.
  [[nodiscard]] std::optional<codec::bgp::Prefix> copy(const codec::bgp::Prefix& prefix,
                                                       std::uint32_t rank, std::uint32_t k) const;

 private:
  struct Table {
    std::vector<std::uint64_t> keys;  // distinct input keys, sorted (rank = index)
    std::vector<std::uint64_t> gaps;  // reserved[t] - t over the sorted reserved u values
    std::uint64_t domain = 0;
    std::uint64_t a = 1;
    std::uint64_t b = 0;
    std::uint64_t a_inverse = 1;
    std::uint8_t key_bits = 0;
  };
  // [family][length]: IPv4 0..32 at 0..32, IPv6 0..128 at 33..161.
  static std::size_t index(const codec::bgp::Prefix& p);
  static std::uint64_t key_of(const codec::bgp::Prefix& p, std::uint8_t key_bits);
  static std::uint8_t key_bits_of(const codec::bgp::Prefix& p);
  // Domain position of a key, or nullopt when the key is outside the domain.
  [[nodiscard]] static std::optional<std::uint64_t> to_domain(bool v6, std::uint8_t key_bits,
                                                              std::uint64_t key);
  [[nodiscard]] static std::uint64_t from_domain(bool v6, std::uint8_t key_bits, std::uint64_t x);
  static std::uint64_t domain_size(bool v6, std::uint8_t key_bits);

  std::array<Table, 162> tables_{};
  bool frozen_ = false;
};

}  // namespace bgpscribe::tools
