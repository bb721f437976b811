// BMP code points (RFC 7854, RFC 8671 Adj-RIB-Out, RFC 9069 Loc-RIB, IANA BMP registries).
//
// The one place where BMP numbers are named: message types, peer types and flags, statistics
// types, Peer Down reasons, TLV types and termination reasons. Enums keep unknown raw values.
// Nothing here parses.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bgpscribe::codec::bmp {

inline constexpr std::uint8_t kVersion = 3;
// draft-ietf-grow-bmp-tlv keeps the common header and bumps the version; such messages are
// framed and kept raw.
inline constexpr std::uint8_t kVersionDraftTlv = 4;
inline constexpr std::size_t kCommonHeaderSize = 6;
inline constexpr std::size_t kPerPeerHeaderSize = 42;

// RFC 7854 section 4.1; type 100 is draft-xu-grow-bmp-route-policy-attr-trace.
enum class MessageType : std::uint8_t {
  RouteMonitoring = 0,
  StatisticsReport = 1,
  PeerDown = 2,
  PeerUp = 3,
  Initiation = 4,
  Termination = 5,
  RouteMirroring = 6,
  RoutePolicyAttributeTrace = 100,
};

// True for the types that carry a per-peer header (all but Initiation and Termination).
constexpr bool has_per_peer_header(MessageType t) {
  return t != MessageType::Initiation && t != MessageType::Termination;
}

// RFC 7854 section 4.2, RFC 9069 section 4.1.
enum class PeerType : std::uint8_t {
  GlobalInstance = 0,
  RdInstance = 1,
  LocalInstance = 2,
  LocRibInstance = 3,
};

// Peer flags (RFC 7854 section 4.2, RFC 8671 section 4, RFC 9069 section 4.2).
namespace peer_flag {
inline constexpr std::uint8_t kIpv6 = 0x80;            // V: the peer address is IPv6
inline constexpr std::uint8_t kPostPolicy = 0x40;      // L: post-policy (0 = pre-policy)
inline constexpr std::uint8_t kLegacyAsPath = 0x20;    // A: 2-octet AS_PATH
inline constexpr std::uint8_t kAdjRibOut = 0x10;       // O: Adj-RIB-Out (RFC 8671)
inline constexpr std::uint8_t kLocRibFiltered = 0x80;  // F, peer type 3 only (RFC 9069)
}  // namespace peer_flag

// RFC 7854 section 4.8, RFC 8671 section 5, IANA "BMP Statistics Types".
enum class StatType : std::uint16_t {
  RejectedPrefixes = 0,
  DuplicatePrefixAdvertisements = 1,
  DuplicateWithdraws = 2,
  ClusterListLoop = 3,
  AsPathLoop = 4,
  OriginatorIdInvalidated = 5,
  AsConfedLoop = 6,
  AdjRibInRoutes = 7,
  LocRibRoutes = 8,
  PerAfiSafiAdjRibInRoutes = 9,
  PerAfiSafiLocRibRoutes = 10,
  TreatAsWithdrawUpdates = 11,
  TreatAsWithdrawPrefixes = 12,
  DuplicateUpdates = 13,
  AdjRibOutPrePolicyRoutes = 14,
  AdjRibOutPostPolicyRoutes = 15,
  PerAfiSafiAdjRibOutPrePolicyRoutes = 16,
  PerAfiSafiAdjRibOutPostPolicyRoutes = 17,
};

// How a statistic's value is laid out (RFC 7854 section 4.8).
enum class StatKind : std::uint8_t {
  Counter32,       // 4 octets
  Gauge64,         // 8 octets
  AfiSafiGauge64,  // AFI(2) + SAFI(1) + 8 octets
  Unknown,         // a type we do not know: kept raw
};
StatKind stat_kind(StatType type);

// RFC 7854 section 4.9, RFC 9069 section 5.
enum class PeerDownReason : std::uint8_t {
  LocalNotification = 1,
  LocalNoNotification = 2,
  RemoteNotification = 3,
  RemoteNoNotification = 4,
  PeerDeconfigured = 5,
  LocalSystemClosedTlv = 6,  // RFC 9069
};

// Information TLVs of Initiation, Peer Up and Peer Down reason 6 (RFC 7854 section 4.4,
// RFC 9069 section 5).
enum class InformationType : std::uint16_t {
  String = 0,
  SysDescr = 1,
  SysName = 2,
  VrfTableName = 3,  // RFC 9069
  AdminLabel = 4,    // draft-ietf-grow-bmp-peer-up
};

// Termination TLVs (RFC 7854 section 4.5).
enum class TerminationType : std::uint16_t {
  String = 0,
  Reason = 1,
};

// RFC 7854 section 4.5.
enum class TerminationReason : std::uint16_t {
  AdministrativelyClosed = 0,
  Unspecified = 1,
  OutOfResources = 2,
  RedundantConnection = 3,
  PermanentlyAdministrativelyClosed = 4,
};

// Route Mirroring TLVs (RFC 7854 section 4.7).
enum class MirroringType : std::uint16_t {
  BgpMessage = 0,
  Information = 1,
};

// RFC 7854 section 4.7: the 2-octet code of a Route Mirroring Information TLV.
enum class MirroringInformation : std::uint16_t {
  ErroredPdu = 0,
  MessagesLost = 1,
};

const char* to_string(MessageType type);           // or nullptr when unknown
const char* to_string(PeerType type);              // or nullptr when unknown
const char* to_string(StatType type);              // or nullptr when unknown
const char* to_string(PeerDownReason reason);      // or nullptr when unknown
const char* to_string(InformationType type);       // or nullptr when unknown
const char* to_string(TerminationReason reason);   // or nullptr when unknown
const char* to_string(MirroringInformation code);  // or nullptr when unknown

}  // namespace bgpscribe::codec::bmp
