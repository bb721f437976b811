#include "exporters/postgres/partition.hpp"

#include <algorithm>
#include <array>

#include "exporters/postgres/copy.hpp"

namespace bgpscribe::exporters::postgres {
namespace {

// src/include/common/hashfn.h and src/backend/partitioning/partbounds.c.
constexpr std::uint64_t kHashPartitionSeed = 0x7A5B22367996DCFDULL;

constexpr std::uint32_t rot(std::uint32_t x, int k) {
  return (x << k) | (x >> (32 - k));
}

constexpr void mix(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c) {
  a -= c;
  a ^= rot(c, 4);
  c += b;
  b -= a;
  b ^= rot(a, 6);
  a += c;
  c -= b;
  c ^= rot(b, 8);
  b += a;
  a -= c;
  a ^= rot(c, 16);
  c += b;
  b -= a;
  b ^= rot(a, 19);
  a += c;
  c -= b;
  c ^= rot(b, 4);
  b += a;
}

constexpr void final_mix(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c) {
  c ^= b;
  c -= rot(b, 14);
  a ^= c;
  a -= rot(c, 11);
  b ^= a;
  b -= rot(a, 25);
  c ^= b;
  c -= rot(b, 16);
  a ^= c;
  a -= rot(c, 4);
  b ^= a;
  b -= rot(a, 14);
  c ^= b;
  c -= rot(b, 24);
}

// The little-endian 32-bit word at k[at] (the server reads words in its own byte order, and
// every platform PostgreSQL runs on for us is little-endian; the test against the server checks
// it).
std::uint32_t word(std::span<const std::uint8_t> k, std::size_t at) {
  return static_cast<std::uint32_t>(k[at]) | static_cast<std::uint32_t>(k[at + 1]) << 8 |
         static_cast<std::uint32_t>(k[at + 2]) << 16 | static_cast<std::uint32_t>(k[at + 3]) << 24;
}

}  // namespace

std::uint64_t pg_hash_bytes_extended(std::span<const std::uint8_t> key, std::uint64_t seed) {
  const auto len = static_cast<std::uint32_t>(key.size());
  std::uint32_t a = 0x9e3779b9U + len + 3923095U;
  std::uint32_t b = a;
  std::uint32_t c = a;
  if (seed != 0) {
    // The seed as a 12-byte chunk of the data whose last four bytes are zero.
    a += static_cast<std::uint32_t>(seed >> 32);
    b += static_cast<std::uint32_t>(seed);
    mix(a, b, c);
  }
  std::span<const std::uint8_t> k = key;
  while (k.size() >= 12) {
    a += word(k, 0);
    b += word(k, 4);
    c += word(k, 8);
    mix(a, b, c);
    k = k.subspan(12);
  }
  // The last 0 to 11 octets, as words of a zero-padded block, except that c takes its octets
  // one place up: lookup3 keeps the lowest octet of c for the length.
  std::array<std::uint8_t, 12> tail{};
  std::copy(k.begin(), k.end(), tail.begin());
  a += word(tail, 0);
  b += word(tail, 4);
  c += word(tail, 8) << 8;
  final_mix(a, b, c);
  return static_cast<std::uint64_t>(b) << 32 | c;
}

std::optional<std::uint64_t> cidr_partition_hash(std::span<const std::uint8_t> copy_value) {
  // hashinetextended hashes the inet struct's family, bits and ip_addrsize(family) octets.
  if (copy_value.size() < 4) {
    return std::nullopt;
  }
  const std::uint8_t family = copy_value[0];
  const std::size_t size = family == kPgAfInet ? 4 : family == kPgAfInet6 ? 16 : 0;
  if (size == 0 || copy_value[3] != size || copy_value.size() != 4 + size) {
    return std::nullopt;
  }
  std::array<std::uint8_t, 18> key{};
  key[0] = family;
  key[1] = copy_value[1];
  for (std::size_t i = 0; i < size; ++i) {
    key[2 + i] = copy_value[4 + i];
  }
  const std::uint64_t h =
      pg_hash_bytes_extended(std::span(key).first(2 + size), kHashPartitionSeed);
  // hash_combine64(0, h), as compute_partition_hash_value folds the (one) key column in.
  return h + 0x49a0f4dd15e5a8e3ULL;
}

}  // namespace bgpscribe::exporters::postgres
