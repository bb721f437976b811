// Path attribute type codes and flag bits (RFC 4271 section 4.3 and the IANA registry).
#pragma once

#include <cstdint>

namespace bgpscribe::codec::bgp {

enum class AttributeType : std::uint8_t {
  Origin = 1,
  AsPath = 2,
  NextHop = 3,
  MultiExitDisc = 4,
  LocalPref = 5,
  AtomicAggregate = 6,
  Aggregator = 7,
  Communities = 8,
  OriginatorId = 9,
  ClusterList = 10,
  MpReachNlri = 14,
  MpUnreachNlri = 15,
  ExtendedCommunities = 16,
  As4Path = 17,
  As4Aggregator = 18,
  PmsiTunnel = 22,
  TunnelEncapsulation = 23,
  Ipv6ExtendedCommunities = 25,
  Aigp = 26,
  BgpLs = 29,
  LargeCommunities = 32,
  BgpsecPath = 33,
  Otc = 35,
  PrefixSid = 40,
  AttrSet = 128,
};

namespace attr_flag {
inline constexpr std::uint8_t kOptional = 0x80;
inline constexpr std::uint8_t kTransitive = 0x40;
inline constexpr std::uint8_t kPartial = 0x20;
inline constexpr std::uint8_t kExtendedLength = 0x10;
}  // namespace attr_flag

enum class Origin : std::uint8_t { Igp = 0, Egp = 1, Incomplete = 2 };

enum class AsSegmentType : std::uint8_t {
  AsSet = 1,
  AsSequence = 2,
  AsConfedSequence = 3,
  AsConfedSet = 4,
};

inline constexpr std::uint32_t kAsTrans = 23456;

// Names of attribute types and origins: codec/bgp/text.hpp.

}  // namespace bgpscribe::codec::bgp
