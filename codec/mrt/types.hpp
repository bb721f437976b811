// MRT type and subtype code points (RFC 6396 section 4, RFC 6397, RFC 8050) and their names.
//
// The one place where MRT numbers are named. Enums keep unknown raw values (a record of a type we
// do not know is still a record). No parsing here, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bgpscribe::codec::mrt {

// RFC 6396 section 4 (types 0-10 are the deprecated ones of section B.2 / the old MRT draft).
enum class Type : std::uint16_t {
  Null = 0,
  Start = 1,
  Die = 2,
  IAmDead = 3,
  PeerDown = 4,
  Bgp = 5,  // deprecated BGP records, see BgpSubtype
  Rip = 6,
  Idrp = 7,
  Ripng = 8,
  Bgp4Plus = 9,     // deprecated, BGP with IPv6 addresses; subtypes as BgpSubtype
  Bgp4Plus01 = 10,  // deprecated, same layout as Bgp4Plus
  Ospfv2 = 11,
  TableDump = 12,
  TableDumpV2 = 13,
  Bgp4mp = 16,
  Bgp4mpEt = 17,
  Isis = 32,
  IsisEt = 33,
  Ospfv3 = 48,
  Ospfv3Et = 49,
};

// Subtypes of the deprecated type 5 (BGP) and of types 9/10 (RFC 6396 section B.2.1).
enum class BgpSubtype : std::uint16_t {
  Null = 0,
  Update = 1,
  PrefUpdate = 2,
  StateChange = 3,
  Sync = 4,
  Open = 5,
  Notify = 6,
  Keepalive = 7,
};

// TABLE_DUMP (RFC 6396 section 4.2): the subtype is the AFI. 3 and 4 are bgpdump's
// non-standard variants with a 4-octet Peer AS and 4-octet AS_PATH.
enum class TableDumpSubtype : std::uint16_t {
  AfiIpv4 = 1,
  AfiIpv6 = 2,
  AfiIpv4As4 = 3,
  AfiIpv6As4 = 4,
};

// TABLE_DUMP_V2 (RFC 6396 section 4.3, RFC 6397, RFC 8050 section 4).
enum class TableDumpV2Subtype : std::uint16_t {
  PeerIndexTable = 1,
  RibIpv4Unicast = 2,
  RibIpv4Multicast = 3,
  RibIpv6Unicast = 4,
  RibIpv6Multicast = 5,
  RibGeneric = 6,
  GeoPeerTable = 7,
  RibIpv4UnicastAddpath = 8,
  RibIpv4MulticastAddpath = 9,
  RibIpv6UnicastAddpath = 10,
  RibIpv6MulticastAddpath = 11,
  RibGenericAddpath = 12,
};

// BGP4MP and BGP4MP_ET (RFC 6396 section 4.4, RFC 8050 section 3).
enum class Bgp4mpSubtype : std::uint16_t {
  StateChange = 0,
  Message = 1,
  Entry = 2,     // old Zebra, not in RFC 6396
  Snapshot = 3,  // old Zebra, not in RFC 6396
  MessageAs4 = 4,
  StateChangeAs4 = 5,
  MessageLocal = 6,
  MessageAs4Local = 7,
  MessageAddpath = 8,
  MessageAs4Addpath = 9,
  MessageLocalAddpath = 10,
  MessageAs4LocalAddpath = 11,
};

// BGP FSM states as BGP4MP STATE_CHANGE records them (RFC 6396 section 4.4.1).
enum class BgpState : std::uint16_t {
  Idle = 1,
  Connect = 2,
  Active = 3,
  OpenSent = 4,
  OpenConfirm = 5,
  Established = 6,
};

inline constexpr std::size_t kHeaderSize = 12;
// The microseconds field of the _ET types, counted in the header's Length (RFC 6396 section 3).
inline constexpr std::size_t kMicrosecondsSize = 4;

// True for BGP4MP_ET, ISIS_ET and OSPFv3_ET, whose header carries microseconds.
constexpr bool is_extended_time(Type type) {
  return type == Type::Bgp4mpEt || type == Type::IsisEt || type == Type::Ospfv3Et;
}

// BGP4MP subtype properties (RFC 6396 section 4.4, RFC 8050 section 3).
constexpr bool is_as4(Bgp4mpSubtype s) {
  return s == Bgp4mpSubtype::MessageAs4 || s == Bgp4mpSubtype::StateChangeAs4 ||
         s == Bgp4mpSubtype::MessageAs4Local || s == Bgp4mpSubtype::MessageAs4Addpath ||
         s == Bgp4mpSubtype::MessageAs4LocalAddpath;
}
constexpr bool is_add_path(Bgp4mpSubtype s) {
  return s == Bgp4mpSubtype::MessageAddpath || s == Bgp4mpSubtype::MessageAs4Addpath ||
         s == Bgp4mpSubtype::MessageLocalAddpath || s == Bgp4mpSubtype::MessageAs4LocalAddpath;
}
constexpr bool is_local(Bgp4mpSubtype s) {
  return s == Bgp4mpSubtype::MessageLocal || s == Bgp4mpSubtype::MessageAs4Local ||
         s == Bgp4mpSubtype::MessageLocalAddpath || s == Bgp4mpSubtype::MessageAs4LocalAddpath;
}
constexpr bool is_message(Bgp4mpSubtype s) {
  return s == Bgp4mpSubtype::Message || s == Bgp4mpSubtype::MessageAs4 ||
         s == Bgp4mpSubtype::MessageLocal || s == Bgp4mpSubtype::MessageAs4Local || is_add_path(s);
}
constexpr bool is_state_change(Bgp4mpSubtype s) {
  return s == Bgp4mpSubtype::StateChange || s == Bgp4mpSubtype::StateChangeAs4;
}

// TABLE_DUMP_V2 RIB subtypes (2-6, 8-12) and their ADD-PATH forms (RFC 8050 section 4).
constexpr bool is_rib(TableDumpV2Subtype s) {
  auto v = static_cast<std::uint16_t>(s);
  return (v >= 2 && v <= 6) || (v >= 8 && v <= 12);
}
constexpr bool is_add_path(TableDumpV2Subtype s) {
  auto v = static_cast<std::uint16_t>(s);
  return v >= 8 && v <= 12;
}
constexpr bool is_generic(TableDumpV2Subtype s) {
  return s == TableDumpV2Subtype::RibGeneric || s == TableDumpV2Subtype::RibGenericAddpath;
}

// Names as RFC 6396 spells them ("TABLE_DUMP_V2", "RIB_IPV4_UNICAST"); nullptr when unknown.
const char* to_string(Type type);
const char* subtype_name(Type type, std::uint16_t subtype);
const char* to_string(BgpState state);

}  // namespace bgpscribe::codec::mrt
