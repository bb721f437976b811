// Helpers shared by the MRT body parsers and encoders; not part of the public API.
//
// Address reads go through wire::Reader like every other field; nothing here allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "codec/bgp/ip.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::mrt::detail {

// Reads a 4-octet (IPv4) or 16-octet (IPv6) address.
inline Result<bgp::IpAddress> read_ip(wire::Reader& r, bgp::Afi family) {
  const std::size_t n = family == bgp::Afi::Ipv4 ? 4 : 16;
  auto b = r.bytes(n);
  if (!b) {
    return fail(b.error());
  }
  bgp::IpAddress a;
  a.family = family;
  std::copy(b->begin(), b->end(), a.bytes.begin());
  return a;
}

inline void write_ip(const bgp::IpAddress& a, wire::Writer& w) {
  w.bytes(a.span());
}

// Reads a 2- or 4-octet AS number.
inline Result<std::uint32_t> read_as(wire::Reader& r, bool as4) {
  if (as4) {
    return r.u32();
  }
  auto v = r.u16();
  if (!v) {
    return fail(v.error());
  }
  return std::uint32_t{*v};
}

inline bool is_ip_family(bgp::Afi afi) {
  return afi == bgp::Afi::Ipv4 || afi == bgp::Afi::Ipv6;
}

}  // namespace bgpscribe::codec::mrt::detail
