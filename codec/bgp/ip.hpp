// IP addresses and prefixes as BGP carries them, with text formatting.
//
// Values are fixed-size (no allocation): 16 address bytes plus the family. Formatting follows
// glibc's inet_ntop exactly (lowercase hex, the longest run of two or more zero groups as "::",
// IPv4-mapped and IPv4-compatible addresses with a dotted tail) because tool output is compared
// byte for byte with tools built on it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "codec/bgp/afi_safi.hpp"

namespace bgpscribe::codec::bgp {

struct IpAddress {
  Afi family = Afi::Ipv4;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v4(std::span<const std::uint8_t, 4> b);
  static IpAddress v6(std::span<const std::uint8_t, 16> b);
  // Parses dotted-quad or RFC 4291 text; nullopt when invalid.
  static std::optional<IpAddress> parse(std::string_view text);

  [[nodiscard]] bool is_v4() const { return family == Afi::Ipv4; }
  [[nodiscard]] std::size_t size() const { return is_v4() ? 4 : 16; }
  [[nodiscard]] std::uint32_t v4_host_order() const;
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {bytes.data(), size()}; }
  // All zero: 0.0.0.0 or :: (an address not known yet).
  [[nodiscard]] bool is_unspecified() const {
    for (const auto b : bytes) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  // Writes the text form at the start of `out`; returns the number of characters written (at
  // least 46 bytes of room are needed).
  std::size_t format(std::span<char> out) const;
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct Prefix {
  IpAddress address;  // bits past `length` are zero
  std::uint8_t length = 0;

  [[nodiscard]] Afi family() const { return address.family; }
  // "192.0.2.0/24"; needs at least 50 bytes of room.
  std::size_t format(std::span<char> out) const;
  [[nodiscard]] std::string to_string() const;
  static std::optional<Prefix> parse(std::string_view text);
  // Whether `a` (of the same family) lies inside this prefix.
  [[nodiscard]] bool contains(const IpAddress& a) const;
  // Whether `p` is this prefix or lies inside it (false across families).
  [[nodiscard]] bool covers(const Prefix& p) const {
    return p.length >= length && contains(p.address);
  }
  // The prefix of one address: /32 or /128.
  static Prefix host(const IpAddress& a) {
    return Prefix{a, static_cast<std::uint8_t>(a.is_v4() ? 32 : 128)};
  }

  friend bool operator==(const Prefix&, const Prefix&) = default;
  friend auto operator<=>(const Prefix&, const Prefix&) = default;
};

// Dotted-quad text of a host-order IPv4 value (BGP identifiers, NEXT_HOP).
std::size_t format_ipv4(std::uint32_t host_order, std::span<char> out);
std::size_t format_ipv6(std::span<const std::uint8_t, 16> b, std::span<char> out);
// Appends a decimal number; returns characters written (at most 20).
std::size_t format_u64(std::uint64_t v, std::span<char> out);

}  // namespace bgpscribe::codec::bgp
