#include "codec/bgp/update.hpp"

#include "codec/bgp/message.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

namespace {

constexpr std::uint8_t kMpUnreach = static_cast<std::uint8_t>(AttributeType::MpUnreachNlri);

void require(Update& u, AttributeType type, std::uint32_t offset, const char* message) {
  const auto t = static_cast<std::uint8_t>(type);
  if (!u.attributes.seen[t]) {
    // RFC 7606 3(d): a missing well-known mandatory attribute means treat-as-withdraw.
    u.attributes.diagnostics.add(Error{ErrorKind::BadValue, error_code::kUpdateMessage,
                                       update_subcode::kMissingWellKnownAttribute,
                                       Reaction::TreatAsWithdraw, offset, message});
  }
}

// RFC 4271 6.3 and 5.1.3: a NEXT_HOP of 0.0.0.0, a multicast (224.0.0.0/4) or the limited
// broadcast address cannot be a router's interface; RFC 7606 7.3 makes the routes of the NLRI
// field treat-as-withdraw (it never applies to MP_REACH routes, RFC 4760 3).
void check_next_hop(Update& u) {
  auto& a = u.attributes;
  if (!a.has(AttributeType::NextHop)) {
    return;
  }
  const char* problem = nullptr;
  if (a.next_hop == 0) {
    problem = "NEXT_HOP is 0.0.0.0";
  } else if ((a.next_hop >> 28) == 0xE) {
    problem = "NEXT_HOP is a multicast address";
  } else if (a.next_hop == 0xFFFFFFFF) {
    problem = "NEXT_HOP is the broadcast address";
  }
  if (problem != nullptr) {
    a.diagnostics.add(Error{ErrorKind::BadValue, error_code::kUpdateMessage,
                            update_subcode::kInvalidNextHop, Reaction::TreatAsWithdraw,
                            a.next_hop_offset, problem});
  }
}

// RFC 7606 checks that need facts of the session (ParseContext): from an external peer, an
// AS_PATH with confederation segments (RFC 5065 section 5.1: we are in no confederation) or,
// with enforce-first-as, one that does not begin with the peer's AS is malformed:
// treat-as-withdraw (RFC 7606 section 7.2). Here, in the decoder, so that whoever reads the
// message with the session's context (the session, the SQL archive) decides the same.
void check_external_path(Update& u, const ParseContext& ctx) {
  auto& a = u.attributes;
  if (!ctx.ebgp || !a.has(AttributeType::AsPath)) {
    return;
  }
  bool confed = false;
  std::uint32_t first = 0;
  bool have_first = false;
  a.as_path.for_each_segment([&](const AsPathView::Segment& seg) {
    confed = confed || seg.type == AsSegmentType::AsConfedSequence ||
             seg.type == AsSegmentType::AsConfedSet;
    if (!have_first && seg.count > 0) {
      have_first = true;
      first = seg.type == AsSegmentType::AsSequence ? seg.asn(0) : 0;
    }
  });
  const char* problem = nullptr;
  if (confed) {
    problem = "AS_PATH of an external peer holds confederation segments";
  } else if (ctx.first_as != 0 &&
             !(have_first && (first == ctx.first_as || (!ctx.four_octet_as && first == 23456)))) {
    problem = "the first AS of an external peer's AS_PATH is not the peer's AS";
  }
  if (problem != nullptr) {
    a.diagnostics.add(Error{ErrorKind::BadValue, error_code::kUpdateMessage,
                            update_subcode::kMalformedAsPath, Reaction::TreatAsWithdraw,
                            a.block_offset, problem});
  }
}

}  // namespace

Result<Update> parse_update_body(std::span<const std::uint8_t> body, const ParseContext& ctx,
                                 std::uint32_t base_offset) {
  Update u;
  if (auto st = parse_update_body_into(body, ctx, base_offset, u); !st) {
    return fail(st.error());
  }
  return u;
}

Status parse_update_body_into(std::span<const std::uint8_t> body, const ParseContext& ctx,
                              std::uint32_t base_offset, Update& u) {
  u.end_of_rib = false;
  u.end_of_rib_family = {};
  // RFC 4271 4.3: two length fields split the body into withdrawn routes, attributes and NLRI.
  // Checked with plain arithmetic: this runs for every UPDATE a session receives.
  if (body.size() < 2) {
    return fail(ErrorKind::Truncated, base_offset, "Withdrawn Routes Length missing",
                error_code::kUpdateMessage, update_subcode::kMalformedAttributeList);
  }
  const std::size_t withdrawn_len = wire::load_u16(body, 0);
  if (body.size() - 2 < withdrawn_len) {
    return fail(ErrorKind::BadLength, base_offset, "Withdrawn Routes Length overruns the message",
                error_code::kUpdateMessage, update_subcode::kMalformedAttributeList);
  }
  const std::size_t attr_len_pos = 2 + withdrawn_len;
  const auto attr_len_at = base_offset + static_cast<std::uint32_t>(attr_len_pos);
  if (body.size() - attr_len_pos < 2) {
    return fail(ErrorKind::BadLength, attr_len_at, "Total Path Attribute Length missing",
                error_code::kUpdateMessage, update_subcode::kMalformedAttributeList);
  }
  const std::size_t attr_len = wire::load_u16(body, attr_len_pos);
  if (body.size() - attr_len_pos - 2 < attr_len) {
    return fail(ErrorKind::BadLength, attr_len_at,
                "Total Path Attribute Length overruns the message", error_code::kUpdateMessage,
                update_subcode::kMalformedAttributeList);
  }
  const std::size_t nlri_pos = attr_len_pos + 2 + attr_len;
  const bool ipv4_add_path = ctx.add_path(kIpv4Unicast);
  BGPSCRIBE_TRY(NlriBlock::parse_into(body.subspan(2, withdrawn_len), base_offset + 2, kIpv4Unicast,
                                      ipv4_add_path, u.withdrawn));
  BGPSCRIBE_TRY(NlriBlock::parse_into(body.subspan(nlri_pos),
                                      base_offset + static_cast<std::uint32_t>(nlri_pos),
                                      kIpv4Unicast, ipv4_add_path, u.nlri));
  const wire::Reader attrs_reader(body.subspan(attr_len_pos + 2, attr_len), attr_len_at + 2);
  const wire::Reader* attrs = &attrs_reader;

  const std::span<const std::uint8_t> block = attrs->rest();
  // RFC 4724 2: End-of-RIB is recognised before any validation (it lacks mandatory attributes).
  if (u.withdrawn.empty() && u.nlri.empty()) {
    if (block.empty()) {
      u.end_of_rib = true;
      u.end_of_rib_family = kIpv4Unicast;
    } else {
      const bool ext = (block[0] & attr_flag::kExtendedLength) != 0;
      const std::size_t hdr = ext ? 4 : 3;
      if (block.size() == hdr + 3 && block[1] == kMpUnreach &&
          (ext ? wire::load_u16(block, 2) : block[2]) == 3) {
        u.end_of_rib = true;
        u.end_of_rib_family = AfiSafi{static_cast<Afi>(wire::load_u16(block, hdr)),
                                      static_cast<Safi>(block[hdr + 2])};
      }
    }
  }
  parse_attributes_into(*attrs, ctx, {}, u.attributes);
  if (u.attributes.diagnostics.reaction == Reaction::SessionReset) {
    return fail(u.attributes.diagnostics.strongest);
  }
  if (u.has_announcements()) {
    require(u, AttributeType::Origin, attr_len_at, "ORIGIN missing");
    require(u, AttributeType::AsPath, attr_len_at, "AS_PATH missing");
    if (!u.nlri.empty()) {
      require(u, AttributeType::NextHop, attr_len_at, "NEXT_HOP missing");
      check_next_hop(u);
    }
    if (u.reaction() < Reaction::TreatAsWithdraw) {
      check_external_path(u, ctx);
    }
  }
  return {};
}

Result<Update> parse_update(std::span<const std::uint8_t> message, const ParseContext& ctx) {
  Update u;
  if (auto st = parse_update_into(message, ctx, u); !st) {
    return fail(st.error());
  }
  return u;
}

Status parse_update_into(std::span<const std::uint8_t> message, const ParseContext& ctx,
                         Update& out) {
  if (message.size() < kHeaderSize + 4) {
    return fail(ErrorKind::BadLength, 16, "UPDATE shorter than 23 bytes",
                error_code::kMessageHeader, header_subcode::kBadMessageLength);
  }
  if (message[18] != static_cast<std::uint8_t>(MessageType::Update)) {
    return fail(ErrorKind::BadValue, 18, "message is not an UPDATE", error_code::kMessageHeader,
                header_subcode::kBadMessageType);
  }
  if (wire::load_u16(message, 16) != message.size()) {
    return fail(ErrorKind::BadLength, 16, "UPDATE length field disagrees with the message",
                error_code::kMessageHeader, header_subcode::kBadMessageLength);
  }
  return parse_update_body_into(message.subspan(kHeaderSize), ctx, kHeaderSize, out);
}

Status UpdateMessage::encode(wire::Writer& w, std::size_t max_size) const {
  const std::size_t start = begin_message(w, MessageType::Update);
  const std::size_t wlen_at = w.placeholder_u16();
  for (const auto& route : withdrawn) {
    encode_nlri(w, route.prefix, route.path_id, add_path);
  }
  const std::size_t withdrawn_bytes = w.since(wlen_at + 2);
  const std::size_t alen_at = w.placeholder_u16();
  attributes.encode(w);
  const std::size_t attr_bytes = w.since(alen_at + 2);
  for (const auto& route : nlri) {
    encode_nlri(w, route.prefix, route.path_id, add_path);
  }
  if (withdrawn_bytes > 0xFFFF || attr_bytes > 0xFFFF) {
    return fail(ErrorKind::TooLarge, 0, "UPDATE exceeds the maximum message size");
  }
  w.patch_u16(wlen_at, static_cast<std::uint16_t>(withdrawn_bytes));
  w.patch_u16(alen_at, static_cast<std::uint16_t>(attr_bytes));
  return finish_message(w, start, MessageType::Update, max_size);
}

UpdateMessage UpdateMessage::end_of_rib(AfiSafi family) {
  UpdateMessage m;
  if (!(family == kIpv4Unicast)) {
    m.attributes.mp_unreach(family, {});
  }
  return m;
}

}  // namespace bgpscribe::codec::bgp
