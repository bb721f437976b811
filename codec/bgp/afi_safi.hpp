// Address Family and Subsequent Address Family identifiers (RFC 4760, IANA registries).
//
// The one place where AFI/SAFI code points are named. Enums keep unknown raw values.
#pragma once

#include <cstdint>

namespace bgpscribe::codec::bgp {

enum class Afi : std::uint16_t {
  Ipv4 = 1,
  Ipv6 = 2,
  L2vpn = 25,
  BgpLs = 16388,
};

enum class Safi : std::uint8_t {
  Unicast = 1,
  Multicast = 2,
  LabeledUnicast = 4,
  McastVpn = 5,
  Vpls = 65,
  Evpn = 70,
  BgpLs = 71,
  BgpLsVpn = 72,
  SrPolicy = 73,
  MplsVpn = 128,
  MulticastVpn = 129,
  RouteTargetConstraint = 132,
  FlowSpec = 133,
  FlowSpecVpn = 134,
};

struct AfiSafi {
  Afi afi = Afi::Ipv4;
  Safi safi = Safi::Unicast;
  friend bool operator==(const AfiSafi&, const AfiSafi&) = default;
};

inline constexpr AfiSafi kIpv4Unicast{Afi::Ipv4, Safi::Unicast};
inline constexpr AfiSafi kIpv4Multicast{Afi::Ipv4, Safi::Multicast};
inline constexpr AfiSafi kIpv6Unicast{Afi::Ipv6, Safi::Unicast};
inline constexpr AfiSafi kIpv6Multicast{Afi::Ipv6, Safi::Multicast};

// True for the families whose NLRI are plain prefixes the codec decodes (IPv4/IPv6 unicast and
// multicast); every other family is carried raw with its AFI/SAFI.
constexpr bool is_plain_prefix_family(AfiSafi f) {
  return (f.afi == Afi::Ipv4 || f.afi == Afi::Ipv6) &&
         (f.safi == Safi::Unicast || f.safi == Safi::Multicast);
}

// Names and the family text ("ipv4/unicast"): codec/bgp/text.hpp.

}  // namespace bgpscribe::codec::bgp
