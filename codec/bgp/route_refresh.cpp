#include "codec/bgp/route_refresh.hpp"

#include "codec/bgp/message.hpp"
#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

namespace {

constexpr std::size_t kRouteRefreshLength = 23;

Failure invalid_length(std::uint32_t offset, const char* message) {
  return fail(ErrorKind::BadLength, offset, message, error_code::kRouteRefresh,
              route_refresh_subcode::kInvalidMessageLength, Reaction::SessionReset);
}

}  // namespace

// RFC 4271 section 4.4.
Status parse_keepalive(wire::Bytes message, std::uint32_t base_offset) {
  auto view = split_message(message, kMaxMessageSize, base_offset);
  if (!view) {
    return fail(view.error());
  }
  if (view->header.type != MessageType::Keepalive) {
    return fail(ErrorKind::BadValue, base_offset + 18, "not a KEEPALIVE message",
                error_code::kMessageHeader, header_subcode::kBadMessageType);
  }
  return {};
}

void encode_keepalive(wire::Writer& w) {
  const std::size_t start = begin_message(w, MessageType::Keepalive);
  // 19 octets never exceed a limit.
  (void)finish_message(w, start, MessageType::Keepalive);
}

// RFC 2918 section 3, RFC 7313 sections 3.2 and 5, RFC 5291 section 4.
Result<RouteRefresh> parse_route_refresh(wire::Bytes message, std::uint32_t base_offset) {
  const std::uint32_t length_offset = base_offset + static_cast<std::uint32_t>(kMarkerSize);
  // A short ROUTE-REFRESH is 7/1 (RFC 7313 section 5), not the generic 1/2, when the header is
  // otherwise sound.
  if (message.size() >= kHeaderSize && message.size() < kRouteRefreshLength) {
    wire::Reader h(message, base_offset);
    (void)h.skip(kMarkerSize);
    const auto length = h.u16().value();
    const auto type = h.u8().value();
    const bool refresh = type == static_cast<std::uint8_t>(MessageType::RouteRefresh) ||
                         type == static_cast<std::uint8_t>(MessageType::CiscoRouteRefresh);
    if (refresh && length == message.size()) {
      return invalid_length(length_offset, "ROUTE-REFRESH shorter than 23 octets");
    }
  }
  auto view = split_message(message, kMaxExtendedMessageSize, base_offset);
  if (!view) {
    return fail(view.error());
  }
  if (view->header.type != MessageType::RouteRefresh &&
      view->header.type != MessageType::CiscoRouteRefresh) {
    return fail(ErrorKind::BadValue, base_offset + 18, "not a ROUTE-REFRESH message",
                error_code::kMessageHeader, header_subcode::kBadMessageType);
  }
  wire::Reader r(view->body, base_offset + static_cast<std::uint32_t>(kHeaderSize));
  RouteRefresh rr;
  rr.type = view->header.type;
  rr.family.afi = static_cast<Afi>(r.u16().value());
  rr.subtype = static_cast<RouteRefreshSubtype>(r.u8().value());
  rr.family.safi = static_cast<Safi>(r.u8().value());
  if (!r.empty() && (rr.subtype == RouteRefreshSubtype::BeginningOfRouteRefresh ||
                     rr.subtype == RouteRefreshSubtype::EndOfRouteRefresh)) {
    return invalid_length(length_offset, "BoRR/EoRR must be exactly 23 octets");
  }
  const auto rest = r.rest();
  rr.orf_entries.assign(rest.begin(), rest.end());
  return rr;
}

// RFC 2918 section 3, RFC 7313 section 3.2.
Status encode_route_refresh(const RouteRefresh& rr, wire::Writer& w, std::size_t max_size) {
  const std::size_t start = begin_message(w, rr.type);
  w.u16(static_cast<std::uint16_t>(rr.family.afi));
  w.u8(static_cast<std::uint8_t>(rr.subtype));
  w.u8(static_cast<std::uint8_t>(rr.family.safi));
  w.bytes(rr.orf_entries);
  return finish_message(w, start, rr.type, max_size);
}

}  // namespace bgpscribe::codec::bgp
