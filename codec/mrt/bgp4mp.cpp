#include "codec/mrt/bgp4mp.hpp"

#include "codec/mrt/detail.hpp"

namespace bgpscribe::codec::mrt {
namespace {

// Old State and New State of a state-change record (RFC 6396 4.4.1, appendix B.2.1).
Status read_states(wire::Reader& r, std::uint16_t& old_state, std::uint16_t& new_state) {
  auto o = r.u16();
  if (!o) {
    return fail(o.error());
  }
  auto n = r.u16();
  if (!n) {
    return fail(n.error());
  }
  old_state = *o;
  new_state = *n;
  return {};
}

// Body size of old Zebra's STATE_CHANGE without interface, family and addresses.
constexpr std::size_t kZebraShortStateChange = 8;

bool is_bgp4mp(Type t) {
  return t == Type::Bgp4mp || t == Type::Bgp4mpEt;
}
bool is_legacy_bgp(Type t) {
  return t == Type::Bgp || t == Type::Bgp4Plus || t == Type::Bgp4Plus01;
}
// RFC 6396 appendix B.2.1: BGP4PLUS and BGP4PLUS_01 are type 5 with IPv6 addresses.
bgp::Afi legacy_family(Type t) {
  return t == Type::Bgp ? bgp::Afi::Ipv4 : bgp::Afi::Ipv6;
}

// RFC 6396 section 4.4: Peer AS(2|4) Local AS(2|4) Interface Index(2) Address Family(2)
// Peer IP(4|16) Local IP(4|16).
Result<Bgp4mpPeer> read_peer(wire::Reader& r, bool as4) {
  Bgp4mpPeer p;
  auto peer_as = detail::read_as(r, as4);
  if (!peer_as) {
    return fail(peer_as.error());
  }
  p.peer_as = *peer_as;
  auto local_as = detail::read_as(r, as4);
  if (!local_as) {
    return fail(local_as.error());
  }
  p.local_as = *local_as;
  auto ifindex = r.u16();
  if (!ifindex) {
    return fail(ifindex.error());
  }
  p.interface_index = *ifindex;
  const std::uint32_t afi_at = r.offset();
  auto afi = r.u16();
  if (!afi) {
    return fail(afi.error());
  }
  const auto family = static_cast<bgp::Afi>(*afi);
  if (!detail::is_ip_family(family)) {
    return fail(ErrorKind::BadValue, afi_at, "BGP4MP address family is neither IPv4 nor IPv6");
  }
  auto peer_ip = detail::read_ip(r, family);
  if (!peer_ip) {
    return fail(peer_ip.error());
  }
  p.peer_ip = *peer_ip;
  auto local_ip = detail::read_ip(r, family);
  if (!local_ip) {
    return fail(local_ip.error());
  }
  p.local_ip = *local_ip;
  return p;
}

Status check_peer(const Bgp4mpPeer& p, bool as4) {
  if (p.peer_ip.family != p.local_ip.family || !detail::is_ip_family(p.peer_ip.family)) {
    return fail(ErrorKind::BadValue, 0, "BGP4MP peer and local IP families differ");
  }
  if (!as4 && (p.peer_as > 0xFFFF || p.local_as > 0xFFFF)) {
    return fail(ErrorKind::BadValue, 0, "BGP4MP AS above 65535 needs an AS4 subtype");
  }
  return {};
}

void write_peer(const Bgp4mpPeer& p, bool as4, wire::Writer& w) {
  if (as4) {
    w.u32(p.peer_as);
    w.u32(p.local_as);
  } else {
    w.u16(static_cast<std::uint16_t>(p.peer_as));
    w.u16(static_cast<std::uint16_t>(p.local_as));
  }
  w.u16(p.interface_index);
  w.u16(static_cast<std::uint16_t>(p.peer_ip.family));
  detail::write_ip(p.peer_ip, w);
  detail::write_ip(p.local_ip, w);
}

Type bgp4mp_type(const Timestamp& t) {
  return t.extended ? Type::Bgp4mpEt : Type::Bgp4mp;
}

}  // namespace

bool operator==(const Bgp4mpMessage& a, const Bgp4mpMessage& b) {
  return a.subtype == b.subtype && a.peer == b.peer && bytes_equal(a.message, b.message);
}

// RFC 6396 sections 4.4.2, 4.4.3, 4.4.5, 4.4.6 and RFC 8050 section 3. The message is not
// checked here: a malformed BGP message is still a record (DESIGN.md rule 1).
Result<Bgp4mpMessage> parse_bgp4mp_message(const Record& record) {
  const auto subtype = static_cast<Bgp4mpSubtype>(record.header.subtype);
  if (!is_bgp4mp(record.header.type) || !is_message(subtype)) {
    return fail(ErrorKind::Unsupported, 6, "not a BGP4MP message record");
  }
  wire::Reader r(record.body, record.body_offset());
  Bgp4mpMessage m;
  m.subtype = subtype;
  auto peer = read_peer(r, is_as4(subtype));
  if (!peer) {
    return fail(peer.error());
  }
  m.peer = *peer;
  m.message = r.rest();
  return m;
}

Status encode(const Bgp4mpMessage& m, const Timestamp& time, wire::Writer& w) {
  if (!is_message(m.subtype)) {
    return fail(ErrorKind::BadValue, 0, "not a BGP4MP message subtype");
  }
  BGPSCRIBE_TRY(check_peer(m.peer, m.as4()));
  const std::size_t start =
      begin_record(bgp4mp_type(time), static_cast<std::uint16_t>(m.subtype), time, w);
  write_peer(m.peer, m.as4(), w);
  w.bytes(m.message);
  return finish_record(start, w);
}

// RFC 6396 sections 4.4.1 and 4.4.4: the common part, Old State(2), New State(2).
Result<Bgp4mpStateChange> parse_bgp4mp_state_change(const Record& record) {
  const auto subtype = static_cast<Bgp4mpSubtype>(record.header.subtype);
  if (!is_bgp4mp(record.header.type) || !is_state_change(subtype)) {
    return fail(ErrorKind::Unsupported, 6, "not a BGP4MP state change record");
  }
  wire::Reader r(record.body, record.body_offset());
  Bgp4mpStateChange c;
  c.subtype = subtype;
  if (subtype == Bgp4mpSubtype::StateChange && record.body.size() == kZebraShortStateChange) {
    // Old Zebra: Peer AS(2) Local AS(2) Old State(2) New State(2) (see Bgp4mpStateChange).
    c.zebra_short = true;
    c.peer.peer_as = *r.u16();
    c.peer.local_as = *r.u16();
    BGPSCRIBE_TRY(read_states(r, c.old_state, c.new_state));
    return c;
  }
  auto peer = read_peer(r, is_as4(subtype));
  if (!peer) {
    return fail(peer.error());
  }
  c.peer = *peer;
  BGPSCRIBE_TRY(read_states(r, c.old_state, c.new_state));
  BGPSCRIBE_TRY(r.expect_end("bytes after the BGP4MP state change"));
  return c;
}

Status encode(const Bgp4mpStateChange& c, const Timestamp& time, wire::Writer& w) {
  if (!is_state_change(c.subtype)) {
    return fail(ErrorKind::BadValue, 0, "not a BGP4MP state change subtype");
  }
  const bool as4 = is_as4(c.subtype);
  if (c.zebra_short) {
    if (c.subtype != Bgp4mpSubtype::StateChange || c.peer.peer_as > 0xFFFF ||
        c.peer.local_as > 0xFFFF) {
      return fail(ErrorKind::BadValue, 0, "Zebra's short state change has 2-octet ASes only");
    }
    const std::size_t start =
        begin_record(bgp4mp_type(time), static_cast<std::uint16_t>(c.subtype), time, w);
    w.u16(static_cast<std::uint16_t>(c.peer.peer_as));
    w.u16(static_cast<std::uint16_t>(c.peer.local_as));
    w.u16(c.old_state);
    w.u16(c.new_state);
    return finish_record(start, w);
  }
  BGPSCRIBE_TRY(check_peer(c.peer, as4));
  const std::size_t start =
      begin_record(bgp4mp_type(time), static_cast<std::uint16_t>(c.subtype), time, w);
  write_peer(c.peer, as4, w);
  w.u16(c.old_state);
  w.u16(c.new_state);
  return finish_record(start, w);
}

// --- deprecated BGP (type 5) and BGP4PLUS (9, 10) -----------------------------------------------

bgp::MessageType BgpMessage::message_type() const {
  switch (subtype) {
    case BgpSubtype::Open:
      return bgp::MessageType::Open;
    case BgpSubtype::Notify:
      return bgp::MessageType::Notification;
    case BgpSubtype::Keepalive:
      return bgp::MessageType::Keepalive;
    default:
      return bgp::MessageType::Update;
  }
}

bool operator==(const BgpMessage& a, const BgpMessage& b) {
  return a.type == b.type && a.subtype == b.subtype && a.peer_as == b.peer_as &&
         a.peer_ip == b.peer_ip && a.local_as == b.local_as && a.local_ip == b.local_ip &&
         bytes_equal(a.payload, b.payload);
}

// RFC 6396 appendix B.2.1: Peer AS(2) Peer IP(4|16) Local AS(2) Local IP(4|16) Message.
Result<BgpMessage> parse_bgp_message(const Record& record) {
  const auto subtype = static_cast<BgpSubtype>(record.header.subtype);
  if (!is_legacy_bgp(record.header.type) ||
      (subtype != BgpSubtype::Update && subtype != BgpSubtype::Open &&
       subtype != BgpSubtype::Notify && subtype != BgpSubtype::Keepalive)) {
    return fail(ErrorKind::Unsupported, 6, "not a deprecated BGP message record");
  }
  const bgp::Afi family = legacy_family(record.header.type);
  wire::Reader r(record.body, record.body_offset());
  BgpMessage m;
  m.type = record.header.type;
  m.subtype = subtype;
  auto peer_as = r.u16();
  if (!peer_as) {
    return fail(peer_as.error());
  }
  m.peer_as = *peer_as;
  auto peer_ip = detail::read_ip(r, family);
  if (!peer_ip) {
    return fail(peer_ip.error());
  }
  m.peer_ip = *peer_ip;
  auto local_as = r.u16();
  if (!local_as) {
    return fail(local_as.error());
  }
  m.local_as = *local_as;
  auto local_ip = detail::read_ip(r, family);
  if (!local_ip) {
    return fail(local_ip.error());
  }
  m.local_ip = *local_ip;
  m.payload = r.rest();
  return m;
}

Status encode(const BgpMessage& m, std::uint32_t timestamp, wire::Writer& w) {
  if (!is_legacy_bgp(m.type) || m.peer_ip.family != legacy_family(m.type) ||
      m.local_ip.family != legacy_family(m.type)) {
    return fail(ErrorKind::BadValue, 0, "deprecated BGP record type disagrees with its IPs");
  }
  const std::size_t start =
      begin_record(m.type, static_cast<std::uint16_t>(m.subtype), {timestamp}, w);
  w.u16(m.peer_as);
  detail::write_ip(m.peer_ip, w);
  w.u16(m.local_as);
  detail::write_ip(m.local_ip, w);
  w.bytes(m.payload);
  return finish_record(start, w);
}

// RFC 6396 appendix B.2.1: Peer AS(2) Peer IP(4|16) Old State(2) New State(2).
Result<BgpStateChange> parse_bgp_state_change(const Record& record) {
  if (!is_legacy_bgp(record.header.type) ||
      record.header.subtype != static_cast<std::uint16_t>(BgpSubtype::StateChange)) {
    return fail(ErrorKind::Unsupported, 6, "not a deprecated BGP state change record");
  }
  wire::Reader r(record.body, record.body_offset());
  BgpStateChange c;
  c.type = record.header.type;
  auto peer_as = r.u16();
  if (!peer_as) {
    return fail(peer_as.error());
  }
  c.peer_as = *peer_as;
  auto peer_ip = detail::read_ip(r, legacy_family(record.header.type));
  if (!peer_ip) {
    return fail(peer_ip.error());
  }
  c.peer_ip = *peer_ip;
  BGPSCRIBE_TRY(read_states(r, c.old_state, c.new_state));
  BGPSCRIBE_TRY(r.expect_end("bytes after the BGP state change"));
  return c;
}

Status encode(const BgpStateChange& c, std::uint32_t timestamp, wire::Writer& w) {
  if (!is_legacy_bgp(c.type) || c.peer_ip.family != legacy_family(c.type)) {
    return fail(ErrorKind::BadValue, 0, "deprecated BGP record type disagrees with its IP");
  }
  const std::size_t start =
      begin_record(c.type, static_cast<std::uint16_t>(BgpSubtype::StateChange), {timestamp}, w);
  w.u16(c.peer_as);
  detail::write_ip(c.peer_ip, w);
  w.u16(c.old_state);
  w.u16(c.new_state);
  return finish_record(start, w);
}

// RFC 4271 section 4.1.
Status to_bgp_message(const BgpMessage& m, wire::Writer& w) {
  const std::size_t size = bgp::kHeaderSize + m.payload.size();
  if (size > bgp::kMaxExtendedMessageSize) {
    return fail(ErrorKind::TooLarge, 0, "BGP message longer than 65535");
  }
  w.fill(bgp::kMarkerSize, 0xFF);
  w.u16(static_cast<std::uint16_t>(size));
  w.u8(static_cast<std::uint8_t>(m.message_type()));
  w.bytes(m.payload);
  return {};
}

}  // namespace bgpscribe::codec::mrt
