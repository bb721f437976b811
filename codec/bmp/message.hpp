// BMP messages (RFC 7854, RFC 8671, RFC 9069): framing, the per-peer header, every message
// body, and encoding.
//
// Parsed messages are views: spans point into the caller's buffer (the embedded BGP PDUs and
// the TLV values), so the buffer must outlive the message. Embedded BGP messages are framed and
// checked with the BGP codec but kept as spans; decoding an UPDATE needs the ParseContext from
// context.hpp. BMP errors carry no NOTIFICATION code of their own (0/0; errors inside an
// embedded BGP PDU keep the BGP codec's code and subcode): a framing error means the stream
// must be dropped, an error in a body means only that message is unusable. This module does
// not track peers or sessions and never allocates for Route Monitoring.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/ip.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bmp/types.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bmp {

using wire::Bytes;

inline bool same_bytes(Bytes a, Bytes b) {
  return std::ranges::equal(a, b);
}

// Default framing limit: a Peer Up with two 4096-octet OPENs and TLVs, or a Route Monitoring
// with an extended (65535-octet) UPDATE, fits easily; anything far larger is a broken stream.
inline constexpr std::size_t kMaxMessageSize = 1U << 20;

// RFC 7854 section 4.1.
struct CommonHeader {
  std::uint8_t version = kVersion;
  std::uint32_t length = 0;  // whole message, header included
  MessageType type = MessageType::RouteMonitoring;
  friend bool operator==(const CommonHeader&, const CommonHeader&) = default;
};

struct Frame {
  bgp::FrameStatus status = bgp::FrameStatus::NeedMore;
  std::size_t size = 0;  // NeedMore: smallest total worth waiting for; Message: message size
  CommonHeader header{};
  Error error{};  // Broken: what is wrong and where
};

// RFC 7854 section 4.1: frames the first message of `input`. Broken when the version is not 3
// (or the draft's 4, whose header is the same) or the length is below 6 or above `max_size`.
// Unknown types frame normally.
[[nodiscard]] Frame frame(Bytes input, std::size_t max_size = kMaxMessageSize);

// RFC 7854 section 4.2, RFC 8671 section 4, RFC 9069 section 4.1.
struct PerPeerHeader {
  PeerType peer_type = PeerType::GlobalInstance;
  std::uint8_t flags = 0;
  std::array<std::uint8_t, 8> distinguisher{};
  std::array<std::uint8_t, 16> address{};  // raw: IPv4 sits in the last 4 octets
  std::uint32_t peer_as = 0;
  std::uint32_t bgp_identifier = 0;
  std::uint32_t timestamp_seconds = 0;
  std::uint32_t timestamp_microseconds = 0;

  // Flag accessors that respect the peer type (for Loc-RIB, 0x80 is F and A/O/L are reserved).
  [[nodiscard]] bool is_loc_rib() const { return peer_type == PeerType::LocRibInstance; }
  [[nodiscard]] bool ipv6() const { return !is_loc_rib() && (flags & peer_flag::kIpv6) != 0; }
  [[nodiscard]] bool post_policy() const {
    return !is_loc_rib() && (flags & peer_flag::kPostPolicy) != 0;
  }
  [[nodiscard]] bool legacy_as_path() const {
    return !is_loc_rib() && (flags & peer_flag::kLegacyAsPath) != 0;
  }
  [[nodiscard]] bool adj_rib_out() const {
    return !is_loc_rib() && (flags & peer_flag::kAdjRibOut) != 0;
  }
  [[nodiscard]] bool loc_rib_filtered() const {
    return is_loc_rib() && (flags & peer_flag::kLocRibFiltered) != 0;
  }
  // The peer address as V says (IPv4 from the last 4 octets).
  [[nodiscard]] bgp::IpAddress peer_address() const;
  void set_peer_address(const bgp::IpAddress& a);  // also sets or clears V

  friend bool operator==(const PerPeerHeader&, const PerPeerHeader&) = default;
};

// RFC 7854 section 4.2.
[[nodiscard]] Result<PerPeerHeader> parse_per_peer_header(wire::Reader& r);
void encode_per_peer_header(const PerPeerHeader& h, wire::Writer& w);

// Type(2), Length(2), Value: Initiation, Termination, Peer Up, Peer Down reason 6 and Route
// Mirroring TLVs (RFC 7854 sections 4.4, 4.5, 4.7).
struct Tlv {
  std::uint16_t type = 0;
  Bytes value{};
  friend bool operator==(const Tlv& a, const Tlv& b) {
    return a.type == b.type && same_bytes(a.value, b.value);
  }
};
[[nodiscard]] Result<std::vector<Tlv>> parse_tlvs(wire::Reader& r);
// TooLarge when a value exceeds 65535 octets (nothing parse_tlvs returns can).
[[nodiscard]] Status encode_tlvs(const std::vector<Tlv>& tlvs, wire::Writer& w);

// ---- Message bodies -------------------------------------------------------------------------

// Type 0, RFC 7854 section 4.6: one complete BGP UPDATE.
struct RouteMonitoring {
  PerPeerHeader peer{};
  Bytes update{};    // the whole BGP message, marker included
  Bytes trailing{};  // octets after the PDU (draft BMP TLVs), kept raw
  friend bool operator==(const RouteMonitoring& a, const RouteMonitoring& b) {
    return a.peer == b.peer && same_bytes(a.update, b.update) && same_bytes(a.trailing, b.trailing);
  }
};

// One statistic of a Statistics Report (RFC 7854 section 4.8). Known types with the length
// their kind prescribes are decoded; anything else keeps its raw value (kind Unknown).
struct Stat {
  StatType type = StatType::RejectedPrefixes;
  StatKind kind = StatKind::Counter32;
  std::uint64_t value = 0;  // Counter32 (fits 32 bits), Gauge64, AfiSafiGauge64
  bgp::AfiSafi family{};    // AfiSafiGauge64
  Bytes raw{};              // Unknown

  static Stat counter(StatType t, std::uint32_t v) { return {t, StatKind::Counter32, v, {}, {}}; }
  static Stat gauge(StatType t, std::uint64_t v) { return {t, StatKind::Gauge64, v, {}, {}}; }
  static Stat per_afi_safi(StatType t, bgp::AfiSafi f, std::uint64_t v) {
    return {t, StatKind::AfiSafiGauge64, v, f, {}};
  }
  friend bool operator==(const Stat& a, const Stat& b) {
    return a.type == b.type && a.kind == b.kind && a.value == b.value && a.family == b.family &&
           same_bytes(a.raw, b.raw);
  }
};

// Type 1, RFC 7854 section 4.8.
struct StatisticsReport {
  PerPeerHeader peer{};
  std::vector<Stat> stats;
  friend bool operator==(const StatisticsReport&, const StatisticsReport&) = default;
};

// Type 2, RFC 7854 section 4.9, RFC 9069 section 5.
struct PeerDown {
  PerPeerHeader peer{};
  PeerDownReason reason = PeerDownReason::RemoteNoNotification;
  std::optional<bgp::Notification> notification;  // reasons 1 and 3
  std::uint16_t fsm_event = 0;                    // reason 2 (RFC 4271 section 8.1 event)
  std::vector<Tlv> tlvs;                          // reason 6
  Bytes data{};  // anything else after the reason (unknown reasons; data on 4 and 5), raw
  friend bool operator==(const PeerDown& a, const PeerDown& b) {
    return a.peer == b.peer && a.reason == b.reason && a.notification == b.notification &&
           a.fsm_event == b.fsm_event && a.tlvs == b.tlvs && same_bytes(a.data, b.data);
  }
};

// Type 3, RFC 7854 section 4.10.
struct PeerUp {
  PerPeerHeader peer{};
  std::array<std::uint8_t, 16> local_address{};  // raw, IPv4 in the last 4 octets
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;
  Bytes sent_open{};      // complete BGP OPEN, as the monitored router sent it
  Bytes received_open{};  // complete BGP OPEN, as the monitored router received it
  std::vector<Tlv> information;

  // The local address, in the family of the peer address (V flag).
  [[nodiscard]] bgp::IpAddress local_ip() const;
  friend bool operator==(const PeerUp& a, const PeerUp& b) {
    return a.peer == b.peer && a.local_address == b.local_address && a.local_port == b.local_port &&
           a.remote_port == b.remote_port && same_bytes(a.sent_open, b.sent_open) &&
           same_bytes(a.received_open, b.received_open) && a.information == b.information;
  }
};

// Type 4, RFC 7854 section 4.3.
struct Initiation {
  std::vector<Tlv> information;
  friend bool operator==(const Initiation&, const Initiation&) = default;
};

// Type 5, RFC 7854 section 4.5.
struct Termination {
  std::vector<Tlv> information;
  // The reason TLV's code, when present and 2 octets long.
  [[nodiscard]] std::optional<TerminationReason> reason() const;
  friend bool operator==(const Termination&, const Termination&) = default;
};

// Type 6, RFC 7854 section 4.7: TLVs of type 0 (a BGP PDU, possibly malformed, kept raw) and
// type 1 (a 2-octet information code).
struct RouteMirroring {
  PerPeerHeader peer{};
  std::vector<Tlv> tlvs;
  // The code of the first Information TLV, when present and 2 octets long.
  [[nodiscard]] std::optional<MirroringInformation> information() const;
  friend bool operator==(const RouteMirroring&, const RouteMirroring&) = default;
};

// Type 100 (draft, layout unverified), types we do not know, and every message of the draft
// version 4: the body after the common header, raw.
struct RawMessage {
  MessageType type = MessageType::RoutePolicyAttributeTrace;
  Bytes body{};
  std::uint8_t version = kVersion;
  friend bool operator==(const RawMessage& a, const RawMessage& b) {
    return a.type == b.type && same_bytes(a.body, b.body) && a.version == b.version;
  }
};

using Message = std::variant<RouteMonitoring, StatisticsReport, PeerDown, PeerUp, Initiation,
                             Termination, RouteMirroring, RawMessage>;

MessageType type_of(const Message& m);

// RFC 7854 section 4: parses one complete message (`message` must hold exactly one, as framed
// by frame()). Offsets in errors are from the start of `message` plus `base_offset`.
[[nodiscard]] Result<Message> parse_message(Bytes message, std::uint32_t base_offset = 0);

// The per-peer header of any message that has one, without parsing the body: stations key
// peers by it.
[[nodiscard]] Result<PerPeerHeader> peek_per_peer_header(Bytes message);

// RFC 7854 section 4: writes one complete message, common header included. TooLarge if an
// embedded NOTIFICATION or TLV value does not fit its length field.
[[nodiscard]] Status encode(const Message& m, wire::Writer& w);

}  // namespace bgpscribe::codec::bmp
