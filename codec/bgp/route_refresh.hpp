// KEEPALIVE (RFC 4271 section 4.4) and ROUTE-REFRESH (RFC 2918, RFC 7313 subtypes, RFC 5291
// ORF entries, and the pre-standard Cisco type 128) messages.
//
// ORF entries and the body of unknown subtypes are kept raw and re-encoded unchanged; this
// module does not interpret ORF and does not decide whether a peer may send a refresh.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

// RFC 4271 section 4.4: a KEEPALIVE is the header alone. A length other than 19 is 1/2.
[[nodiscard]] Status parse_keepalive(wire::Bytes message, std::uint32_t base_offset = 0);
// RFC 4271 section 4.4.
void encode_keepalive(wire::Writer& w);

// RFC 7313 section 3.2; the raw value is kept for others (RFC 7313 section 5: ignore them).
enum class RouteRefreshSubtype : std::uint8_t {
  Normal = 0,
  BeginningOfRouteRefresh = 1,  // BoRR
  EndOfRouteRefresh = 2,        // EoRR
  Reserved = 255,
};

struct RouteRefresh {
  MessageType type = MessageType::RouteRefresh;  // or CiscoRouteRefresh (128)
  AfiSafi family{};
  RouteRefreshSubtype subtype = RouteRefreshSubtype::Normal;
  // RFC 5291 ORF entries after a Normal request, or the rest of an unknown subtype, raw.
  std::vector<std::uint8_t> orf_entries;

  [[nodiscard]] bool known_subtype() const {
    return subtype == RouteRefreshSubtype::Normal ||
           subtype == RouteRefreshSubtype::BeginningOfRouteRefresh ||
           subtype == RouteRefreshSubtype::EndOfRouteRefresh;
  }
  friend bool operator==(const RouteRefresh&, const RouteRefresh&) = default;
};

// RFC 2918 section 3, RFC 7313 sections 3.2 and 5: parses a complete ROUTE-REFRESH (type 5 or
// 128) message. A BoRR or EoRR whose length is not 23, or any message shorter than 23, is 7/1
// (Invalid Message Length) at the length field, session reset.
[[nodiscard]] Result<RouteRefresh> parse_route_refresh(wire::Bytes message,
                                                       std::uint32_t base_offset = 0);

// RFC 2918 section 3, RFC 7313 section 3.2. `max_size` as for encode_notification.
[[nodiscard]] Status encode_route_refresh(const RouteRefresh& rr, wire::Writer& w,
                                          std::size_t max_size = kMaxMessageSize);

}  // namespace bgpscribe::codec::bgp
