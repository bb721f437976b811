// BGP4MP / BGP4MP_ET (RFC 6396 section 4.4, RFC 8050 section 3) and the deprecated BGP type 5
// and BGP4PLUS types 9/10 (RFC 6396 appendix B.2.1) bodies.
//
// The embedded BGP message stays a span: this module frames it and says how to decode it
// (parse_context_for in record.hpp), the BGP codec decodes it. No I/O, no allocation, no
// exceptions.
#pragma once

#include <cstdint>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/mrt/record.hpp"

namespace bgpscribe::codec::mrt {

// The common part of every BGP4MP body: who talked to whom. The AFI field of the wire is the
// family of peer_ip and local_ip (they must agree).
struct Bgp4mpPeer {
  std::uint32_t peer_as = 0;
  std::uint32_t local_as = 0;
  std::uint16_t interface_index = 0;
  bgp::IpAddress peer_ip;
  bgp::IpAddress local_ip;
  friend bool operator==(const Bgp4mpPeer&, const Bgp4mpPeer&) = default;
};

// BGP4MP_MESSAGE, _AS4, _LOCAL, _AS4_LOCAL and the four _ADDPATH forms.
struct Bgp4mpMessage {
  Bgp4mpSubtype subtype = Bgp4mpSubtype::MessageAs4;
  Bgp4mpPeer peer;
  Bytes message;  // the whole BGP message, marker and header included, exactly as received

  [[nodiscard]] bool as4() const { return is_as4(subtype); }
  [[nodiscard]] bool add_path() const { return is_add_path(subtype); }
  [[nodiscard]] bool local() const { return is_local(subtype); }
  friend bool operator==(const Bgp4mpMessage& a, const Bgp4mpMessage& b);
};

// BGP4MP_STATE_CHANGE and _AS4. States are raw (Quagga writes 7 and 8, see BgpState).
struct Bgp4mpStateChange {
  Bgp4mpSubtype subtype = Bgp4mpSubtype::StateChangeAs4;
  Bgp4mpPeer peer;
  std::uint16_t old_state = 0;
  std::uint16_t new_state = 0;
  // Old Zebra wrote 8-octet STATE_CHANGE bodies: Peer AS(2) Local AS(2) Old State(2) New
  // State(2), no interface, family or addresses (bgpdump reads them the same way). The peer's
  // addresses are then unknown (left 0.0.0.0) and the record re-encodes in that short form.
  bool zebra_short = false;
  friend bool operator==(const Bgp4mpStateChange&, const Bgp4mpStateChange&) = default;
};

// RFC 6396 section 4.4.2-4.4.6, RFC 8050 section 3.
Result<Bgp4mpMessage> parse_bgp4mp_message(const Record& record);
Status encode(const Bgp4mpMessage& message, const Timestamp& time, wire::Writer& w);
// RFC 6396 section 4.4.1 and 4.4.4.
Result<Bgp4mpStateChange> parse_bgp4mp_state_change(const Record& record);
Status encode(const Bgp4mpStateChange& change, const Timestamp& time, wire::Writer& w);

// Deprecated type 5 (and 9/10 with IPv6 addresses) UPDATE, OPEN, NOTIFY and KEEPALIVE: the BGP
// message without its 16-octet marker, length and type (the subtype says the type).
struct BgpMessage {
  Type type = Type::Bgp;  // Bgp, Bgp4Plus or Bgp4Plus01
  BgpSubtype subtype = BgpSubtype::Update;
  std::uint16_t peer_as = 0;
  bgp::IpAddress peer_ip;
  std::uint16_t local_as = 0;
  bgp::IpAddress local_ip;
  Bytes payload;  // the message body after the 19-octet BGP header

  [[nodiscard]] bgp::MessageType message_type() const;
  friend bool operator==(const BgpMessage& a, const BgpMessage& b);
};

struct BgpStateChange {
  Type type = Type::Bgp;
  std::uint16_t peer_as = 0;
  bgp::IpAddress peer_ip;
  std::uint16_t old_state = 0;
  std::uint16_t new_state = 0;
  friend bool operator==(const BgpStateChange&, const BgpStateChange&) = default;
};

// RFC 6396 appendix B.2.1 (BGP_UPDATE, BGP_OPEN, BGP_NOTIFY, BGP_KEEPALIVE).
Result<BgpMessage> parse_bgp_message(const Record& record);
Status encode(const BgpMessage& message, std::uint32_t timestamp, wire::Writer& w);
// RFC 6396 appendix B.2.1 (BGP_STATE_CHANGE).
Result<BgpStateChange> parse_bgp_state_change(const Record& record);
Status encode(const BgpStateChange& change, std::uint32_t timestamp, wire::Writer& w);
// Rebuilds the full BGP message (marker, length, type, payload) that a deprecated record
// abbreviates, so the BGP codec can decode it like any other (RFC 4271 section 4.1).
Status to_bgp_message(const BgpMessage& message, wire::Writer& w);

}  // namespace bgpscribe::codec::mrt
