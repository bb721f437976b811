#include "codec/bmp/message.hpp"

#include <type_traits>
#include <utility>

namespace bgpscribe::codec::bmp {

namespace {

constexpr std::size_t kPeerUpFixed = 16 + 2 + 2;  // local address and two ports
constexpr std::size_t kMaxTlvValue = 0xFFFF;

Failure malformed(ErrorKind kind, std::uint32_t offset, const char* message) {
  return fail(kind, offset, message, 0, 0, Reaction::SessionReset);
}

// One embedded BGP message at the cursor, framed by its own header length (RFC 7854 sections
// 4.6 and 4.10). BMP carries what the router saw, so the extended limit always applies.
Result<Bytes> embedded_bgp_message(wire::Reader& r, bgp::MessageType expected, const char* what) {
  const std::uint32_t at = r.offset();
  const bgp::Frame f = bgp::frame(r.rest(), bgp::kMaxExtendedMessageSize);
  if (f.status == bgp::FrameStatus::Broken) {
    Error e = f.error;
    e.offset += at;
    return fail(e);
  }
  if (f.status == bgp::FrameStatus::NeedMore) {
    return malformed(ErrorKind::Truncated, at, what);
  }
  if (f.header.type != expected) {
    return malformed(ErrorKind::BadValue, at + static_cast<std::uint32_t>(bgp::kMarkerSize + 2),
                     "embedded BGP message has the wrong type");
  }
  return r.bytes(f.size).value();
}

// RFC 7854 section 4.8: one Type(2), Length(2), Value statistic.
Result<Stat> parse_stat(wire::Reader& r) {
  const std::uint32_t at = r.offset();
  auto type = r.u16();
  auto length = r.u16();
  if (!type || !length) {
    return malformed(ErrorKind::Truncated, at, "statistic header truncated");
  }
  auto v = r.sub(*length);
  if (!v) {
    return malformed(ErrorKind::Truncated, at + 2, "statistic overruns the message");
  }
  Stat s;
  s.type = static_cast<StatType>(*type);
  s.kind = stat_kind(s.type);
  // A known type with an unexpected length is kept raw rather than rejected: the Length field
  // still frames it (RFC 7854 section 4.8) and stations skip what they cannot read.
  switch (s.kind) {
    case StatKind::Counter32:
      if (*length == 4) {
        s.value = v->u32().value();
        return s;
      }
      break;
    case StatKind::Gauge64:
      if (*length == 8) {
        s.value = v->u64().value();
        return s;
      }
      break;
    case StatKind::AfiSafiGauge64:
      if (*length == 11) {
        s.family.afi = static_cast<bgp::Afi>(v->u16().value());
        s.family.safi = static_cast<bgp::Safi>(v->u8().value());
        s.value = v->u64().value();
        return s;
      }
      break;
    case StatKind::Unknown:
      break;
  }
  s.kind = StatKind::Unknown;
  s.raw = v->rest();
  return s;
}

// ---- bodies ---------------------------------------------------------------------------------

// RFC 7854 section 4.6.
Result<Message> parse_route_monitoring(wire::Reader& r, const PerPeerHeader& peer) {
  auto update =
      embedded_bgp_message(r, bgp::MessageType::Update, "Route Monitoring UPDATE truncated");
  if (!update) {
    return fail(update.error());
  }
  return Message{RouteMonitoring{peer, *update, r.rest()}};
}

// RFC 7854 section 4.8.
Result<Message> parse_statistics(wire::Reader& r, const PerPeerHeader& peer) {
  auto count = r.u32();
  if (!count) {
    return malformed(ErrorKind::Truncated, r.offset(), "stats count truncated");
  }
  StatisticsReport report{peer, {}};
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto s = parse_stat(r);
    if (!s) {
      return fail(s.error());
    }
    report.stats.push_back(*s);
  }
  if (!r.empty()) {
    return malformed(ErrorKind::BadLength, r.offset(), "octets after the last statistic");
  }
  return Message{std::move(report)};
}

// RFC 7854 section 4.9, RFC 9069 section 5.
Result<Message> parse_peer_down(wire::Reader& r, const PerPeerHeader& peer) {
  auto reason = r.u8();
  if (!reason) {
    return malformed(ErrorKind::Truncated, r.offset(), "Peer Down reason missing");
  }
  PeerDown down;
  down.peer = peer;
  down.reason = static_cast<PeerDownReason>(*reason);
  switch (down.reason) {
    case PeerDownReason::LocalNotification:
    case PeerDownReason::RemoteNotification: {
      const std::uint32_t at = r.offset();
      auto pdu = embedded_bgp_message(r, bgp::MessageType::Notification,
                                      "Peer Down NOTIFICATION truncated");
      if (!pdu) {
        return fail(pdu.error());
      }
      auto n = bgp::parse_notification(*pdu, at);
      if (!n) {
        return fail(n.error());
      }
      down.notification = std::move(*n);
      if (!r.empty()) {
        return malformed(ErrorKind::BadLength, r.offset(), "octets after the NOTIFICATION");
      }
      return Message{std::move(down)};
    }
    case PeerDownReason::LocalNoNotification: {
      auto event = r.u16();
      if (!event || !r.empty()) {
        return malformed(ErrorKind::BadLength, r.offset(),
                         "Peer Down reason 2 needs exactly a 2-octet FSM event");
      }
      down.fsm_event = *event;
      return Message{std::move(down)};
    }
    case PeerDownReason::LocalSystemClosedTlv: {
      auto tlvs = parse_tlvs(r);
      if (!tlvs) {
        return fail(tlvs.error());
      }
      down.tlvs = std::move(*tlvs);
      return Message{std::move(down)};
    }
    case PeerDownReason::RemoteNoNotification:
    case PeerDownReason::PeerDeconfigured:
      break;
  }
  down.data = r.rest();
  return Message{std::move(down)};
}

// RFC 7854 section 4.10.
Result<Message> parse_peer_up(wire::Reader& r, const PerPeerHeader& peer) {
  if (r.remaining() < kPeerUpFixed) {
    return malformed(ErrorKind::Truncated, r.offset(), "Peer Up fixed fields truncated");
  }
  PeerUp up;
  up.peer = peer;
  const auto local = r.bytes(16).value();
  std::copy(local.begin(), local.end(), up.local_address.begin());
  up.local_port = r.u16().value();
  up.remote_port = r.u16().value();
  // Each OPEN's own header length finds the split (RFC 7854 section 4.10).
  auto sent = embedded_bgp_message(r, bgp::MessageType::Open, "Peer Up sent OPEN truncated");
  if (!sent) {
    return fail(sent.error());
  }
  auto received =
      embedded_bgp_message(r, bgp::MessageType::Open, "Peer Up received OPEN truncated");
  if (!received) {
    return fail(received.error());
  }
  up.sent_open = *sent;
  up.received_open = *received;
  auto tlvs = parse_tlvs(r);
  if (!tlvs) {
    return fail(tlvs.error());
  }
  up.information = std::move(*tlvs);
  return Message{std::move(up)};
}

// ---- encoding -------------------------------------------------------------------------------

// RFC 7854 section 4.6.
Status encode_body(const RouteMonitoring& m, wire::Writer& w) {
  encode_per_peer_header(m.peer, w);
  w.bytes(m.update);
  w.bytes(m.trailing);
  return {};
}

// RFC 7854 section 4.8.
Status encode_body(const StatisticsReport& m, wire::Writer& w) {
  encode_per_peer_header(m.peer, w);
  w.u32(static_cast<std::uint32_t>(m.stats.size()));
  for (const auto& s : m.stats) {
    w.u16(static_cast<std::uint16_t>(s.type));
    switch (s.kind) {
      case StatKind::Counter32:
        w.u16(4);
        w.u32(static_cast<std::uint32_t>(s.value));
        break;
      case StatKind::Gauge64:
        w.u16(8);
        w.u64(s.value);
        break;
      case StatKind::AfiSafiGauge64:
        w.u16(11);
        w.u16(static_cast<std::uint16_t>(s.family.afi));
        w.u8(static_cast<std::uint8_t>(s.family.safi));
        w.u64(s.value);
        break;
      case StatKind::Unknown:
        if (s.raw.size() > kMaxTlvValue) {
          return malformed(ErrorKind::TooLarge, static_cast<std::uint32_t>(w.size()),
                           "statistic value exceeds 65535 octets");
        }
        w.u16(static_cast<std::uint16_t>(s.raw.size()));
        w.bytes(s.raw);
        break;
    }
  }
  return {};
}

// RFC 7854 section 4.9, RFC 9069 section 5.
Status encode_body(const PeerDown& m, wire::Writer& w) {
  encode_per_peer_header(m.peer, w);
  w.u8(static_cast<std::uint8_t>(m.reason));
  switch (m.reason) {
    case PeerDownReason::LocalNotification:
    case PeerDownReason::RemoteNotification:
      if (m.notification) {
        BGPSCRIBE_TRY(bgp::encode_notification(*m.notification, w, bgp::kMaxExtendedMessageSize));
      }
      break;
    case PeerDownReason::LocalNoNotification:
      w.u16(m.fsm_event);
      break;
    case PeerDownReason::LocalSystemClosedTlv:
      BGPSCRIBE_TRY(encode_tlvs(m.tlvs, w));
      break;
    case PeerDownReason::RemoteNoNotification:
    case PeerDownReason::PeerDeconfigured:
      break;
  }
  w.bytes(m.data);
  return {};
}

// RFC 7854 section 4.10.
Status encode_body(const PeerUp& m, wire::Writer& w) {
  encode_per_peer_header(m.peer, w);
  w.bytes(m.local_address);
  w.u16(m.local_port);
  w.u16(m.remote_port);
  w.bytes(m.sent_open);
  w.bytes(m.received_open);
  return encode_tlvs(m.information, w);
}

// RFC 7854 section 4.3.
Status encode_body(const Initiation& m, wire::Writer& w) {
  return encode_tlvs(m.information, w);
}

// RFC 7854 section 4.5.
Status encode_body(const Termination& m, wire::Writer& w) {
  return encode_tlvs(m.information, w);
}

// RFC 7854 section 4.7.
Status encode_body(const RouteMirroring& m, wire::Writer& w) {
  encode_per_peer_header(m.peer, w);
  return encode_tlvs(m.tlvs, w);
}

// Draft and unknown types: the body as received.
Status encode_body(const RawMessage& m, wire::Writer& w) {
  w.bytes(m.body);
  return {};
}

}  // namespace

// RFC 7854 section 4.1.
Frame frame(Bytes input, std::size_t max_size) {
  Frame f;
  if (!input.empty() && input[0] != kVersion && input[0] != kVersionDraftTlv) {
    f.status = bgp::FrameStatus::Broken;
    f.error = malformed(ErrorKind::Unsupported, 0, "BMP version is not 3").error;
    return f;
  }
  if (input.size() < kCommonHeaderSize) {
    f.status = bgp::FrameStatus::NeedMore;
    f.size = kCommonHeaderSize;
    return f;
  }
  wire::Reader r(input);
  f.header.version = r.u8().value();
  f.header.length = r.u32().value();
  f.header.type = static_cast<MessageType>(r.u8().value());
  if (f.header.length < kCommonHeaderSize || f.header.length > max_size) {
    f.status = bgp::FrameStatus::Broken;
    f.error = malformed(ErrorKind::BadLength, 1, "BMP message length out of range").error;
    return f;
  }
  f.size = f.header.length;
  f.status =
      input.size() >= f.header.length ? bgp::FrameStatus::Message : bgp::FrameStatus::NeedMore;
  return f;
}

bgp::IpAddress PerPeerHeader::peer_address() const {
  if (ipv6()) {
    return bgp::IpAddress::v6(std::span<const std::uint8_t, 16>(address));
  }
  return bgp::IpAddress::v4(std::span<const std::uint8_t, 16>(address).subspan<12, 4>());
}

void PerPeerHeader::set_peer_address(const bgp::IpAddress& a) {
  address = {};
  if (a.is_v4()) {
    std::copy(a.bytes.begin(), a.bytes.begin() + 4, address.begin() + 12);
    flags = static_cast<std::uint8_t>(flags & ~peer_flag::kIpv6);
  } else {
    address = a.bytes;
    flags = static_cast<std::uint8_t>(flags | peer_flag::kIpv6);
  }
}

// RFC 7854 section 4.2.
Result<PerPeerHeader> parse_per_peer_header(wire::Reader& r) {
  if (r.remaining() < kPerPeerHeaderSize) {
    return malformed(ErrorKind::Truncated, r.offset(), "per-peer header truncated");
  }
  PerPeerHeader h;
  h.peer_type = static_cast<PeerType>(r.u8().value());
  h.flags = r.u8().value();
  const auto rd = r.bytes(8).value();
  std::copy(rd.begin(), rd.end(), h.distinguisher.begin());
  const auto address = r.bytes(16).value();
  std::copy(address.begin(), address.end(), h.address.begin());
  h.peer_as = r.u32().value();
  h.bgp_identifier = r.u32().value();
  h.timestamp_seconds = r.u32().value();
  h.timestamp_microseconds = r.u32().value();
  return h;
}

void encode_per_peer_header(const PerPeerHeader& h, wire::Writer& w) {
  w.u8(static_cast<std::uint8_t>(h.peer_type));
  w.u8(h.flags);
  w.bytes(h.distinguisher);
  w.bytes(h.address);
  w.u32(h.peer_as);
  w.u32(h.bgp_identifier);
  w.u32(h.timestamp_seconds);
  w.u32(h.timestamp_microseconds);
}

// RFC 7854 section 4.4.
Result<std::vector<Tlv>> parse_tlvs(wire::Reader& r) {
  std::vector<Tlv> out;
  while (!r.empty()) {
    const std::uint32_t at = r.offset();
    auto type = r.u16();
    auto length = r.u16();
    if (!type || !length) {
      return malformed(ErrorKind::Truncated, at, "TLV header truncated");
    }
    auto value = r.bytes(*length);
    if (!value) {
      return malformed(ErrorKind::Truncated, at + 2, "TLV value overruns the message");
    }
    out.push_back(Tlv{*type, *value});
  }
  return out;
}

Status encode_tlvs(const std::vector<Tlv>& tlvs, wire::Writer& w) {
  for (const auto& t : tlvs) {
    if (t.value.size() > kMaxTlvValue) {
      return malformed(ErrorKind::TooLarge, static_cast<std::uint32_t>(w.size()),
                       "TLV value exceeds 65535 octets");
    }
    w.u16(t.type);
    w.u16(static_cast<std::uint16_t>(t.value.size()));
    w.bytes(t.value);
  }
  return {};
}

bgp::IpAddress PeerUp::local_ip() const {
  if (peer.ipv6()) {
    return bgp::IpAddress::v6(std::span<const std::uint8_t, 16>(local_address));
  }
  return bgp::IpAddress::v4(std::span<const std::uint8_t, 16>(local_address).subspan<12, 4>());
}

std::optional<MirroringInformation> RouteMirroring::information() const {
  for (const auto& t : tlvs) {
    if (t.type == static_cast<std::uint16_t>(MirroringType::Information) && t.value.size() == 2) {
      return static_cast<MirroringInformation>(wire::load_u16(t.value, 0));
    }
  }
  return std::nullopt;
}

std::optional<TerminationReason> Termination::reason() const {
  for (const auto& t : information) {
    if (t.type == static_cast<std::uint16_t>(TerminationType::Reason) && t.value.size() == 2) {
      return static_cast<TerminationReason>(wire::load_u16(t.value, 0));
    }
  }
  return std::nullopt;
}

MessageType type_of(const Message& m) {
  return std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, RouteMonitoring>) {
          return MessageType::RouteMonitoring;
        } else if constexpr (std::is_same_v<T, StatisticsReport>) {
          return MessageType::StatisticsReport;
        } else if constexpr (std::is_same_v<T, PeerDown>) {
          return MessageType::PeerDown;
        } else if constexpr (std::is_same_v<T, PeerUp>) {
          return MessageType::PeerUp;
        } else if constexpr (std::is_same_v<T, Initiation>) {
          return MessageType::Initiation;
        } else if constexpr (std::is_same_v<T, Termination>) {
          return MessageType::Termination;
        } else if constexpr (std::is_same_v<T, RouteMirroring>) {
          return MessageType::RouteMirroring;
        } else {
          return v.type;
        }
      },
      m);
}

// RFC 7854 section 4 (one switch over the BMP message registry).
Result<Message> parse_message(Bytes message, std::uint32_t base_offset) {
  const Frame f = frame(message);
  if (f.status == bgp::FrameStatus::Broken) {
    Error e = f.error;
    e.offset += base_offset;
    return fail(e);
  }
  if (f.status == bgp::FrameStatus::NeedMore || f.size != message.size()) {
    return malformed(ErrorKind::BadLength, base_offset + 1,
                     "BMP length disagrees with the message size");
  }
  wire::Reader r(message.subspan(kCommonHeaderSize),
                 base_offset + static_cast<std::uint32_t>(kCommonHeaderSize));
  const MessageType type = f.header.type;
  if (f.header.version != kVersion) {
    return Message{RawMessage{type, r.rest(), f.header.version}};
  }
  switch (type) {
    case MessageType::Initiation: {
      auto tlvs = parse_tlvs(r);
      if (!tlvs) {
        return fail(tlvs.error());
      }
      return Message{Initiation{std::move(*tlvs)}};
    }
    case MessageType::Termination: {
      auto tlvs = parse_tlvs(r);
      if (!tlvs) {
        return fail(tlvs.error());
      }
      return Message{Termination{std::move(*tlvs)}};
    }
    case MessageType::RouteMonitoring:
    case MessageType::StatisticsReport:
    case MessageType::PeerDown:
    case MessageType::PeerUp:
    case MessageType::RouteMirroring: {
      auto peer = parse_per_peer_header(r);
      if (!peer) {
        return fail(peer.error());
      }
      switch (type) {
        case MessageType::RouteMonitoring:
          return parse_route_monitoring(r, *peer);
        case MessageType::StatisticsReport:
          return parse_statistics(r, *peer);
        case MessageType::PeerDown:
          return parse_peer_down(r, *peer);
        case MessageType::PeerUp:
          return parse_peer_up(r, *peer);
        default: {
          auto tlvs = parse_tlvs(r);
          if (!tlvs) {
            return fail(tlvs.error());
          }
          return Message{RouteMirroring{*peer, std::move(*tlvs)}};
        }
      }
    }
    case MessageType::RoutePolicyAttributeTrace:
      break;
  }
  return Message{RawMessage{type, r.rest(), kVersion}};
}

Result<PerPeerHeader> peek_per_peer_header(Bytes message) {
  const Frame f = frame(message);
  if (f.status == bgp::FrameStatus::Broken) {
    return fail(f.error);
  }
  if (f.status == bgp::FrameStatus::NeedMore) {
    return malformed(ErrorKind::Truncated, 0, "BMP message truncated");
  }
  if (!has_per_peer_header(f.header.type) ||
      f.header.type == MessageType::RoutePolicyAttributeTrace) {
    return malformed(ErrorKind::Unsupported, 5, "message type has no per-peer header");
  }
  wire::Reader r(message.first(f.size).subspan(kCommonHeaderSize),
                 static_cast<std::uint32_t>(kCommonHeaderSize));
  return parse_per_peer_header(r);
}

// RFC 7854 section 4.
Status encode(const Message& m, wire::Writer& w) {
  const std::size_t start = w.size();
  const auto* raw = std::get_if<RawMessage>(&m);
  w.u8(raw != nullptr ? raw->version : kVersion);
  const std::size_t length_at = w.placeholder_u32();
  w.u8(static_cast<std::uint8_t>(type_of(m)));
  BGPSCRIBE_TRY(std::visit([&w](const auto& body) { return encode_body(body, w); }, m));
  const std::size_t length = w.since(start);
  if (length > 0xFFFFFFFFU) {
    return malformed(ErrorKind::TooLarge, static_cast<std::uint32_t>(start),
                     "BMP message exceeds 4 GiB");
  }
  w.patch_u32(length_at, static_cast<std::uint32_t>(length));
  return {};
}

}  // namespace bgpscribe::codec::bmp
