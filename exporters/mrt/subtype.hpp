// Which BGP4MP subtype a received message is written under (RFC 6396 section 4.4, RFC 8050
// section 3): the AS size the session used and, for UPDATEs, whether its NLRI carry ADD-PATH
// path identifiers.
//
// The decision needs the family of an UPDATE, found by a light walk of its fields (withdrawn
// length, attribute headers, MP_REACH_NLRI / MP_UNREACH_NLRI AFI and SAFI) that never decodes
// an attribute value and never allocates. Malformed messages get a best-effort answer: they are
// archived raw whatever their subtype says.
#pragma once

#include <cstdint>
#include <span>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/mrt/types.hpp"

namespace bgpscribe::exporters::mrt {

struct UpdateFamily {
  codec::bgp::AfiSafi family = codec::bgp::kIpv4Unicast;
  bool known = false;  // false: not an UPDATE, or malformed before any family could be seen
  // More than one family carries routes (classic IPv4 fields, MP_REACH, MP_UNREACH).
  bool mixed = false;
  codec::bgp::AfiSafi other{};  // the first family that is not `family`, when mixed
  bool malformed = false;       // the walk stopped at a length that does not fit
};

// The family of an UPDATE (whole message, header included), by priority:
//   1. MP_REACH_NLRI with NLRI (announcements of that family),
//   2. the classic NLRI field (IPv4 unicast announcements),
//   3. MP_UNREACH_NLRI with withdrawn routes,
//   4. the classic Withdrawn Routes field (IPv4 unicast),
//   5. an empty MP_UNREACH_NLRI or MP_REACH_NLRI (End-of-RIB of that family),
//   6. IPv4 unicast (an empty UPDATE is the IPv4 End-of-RIB).
// Announcements win over withdrawals and the MP attributes over the classic fields.
UpdateFamily update_family(std::span<const std::uint8_t> message);

struct SubtypeChoice {
  codec::mrt::Bgp4mpSubtype subtype = codec::mrt::Bgp4mpSubtype::MessageAs4;
  bool add_path_conflict = false;  // a mixed UPDATE whose families disagree on ADD-PATH
  bool malformed = false;          // the walk stopped (only walked with ADD-PATH on the session)
};

// MESSAGE_AS4 when the session used 4-octet ASNs, MESSAGE otherwise; the _ADDPATH form when
// the message is an UPDATE whose family (update_family) has ADD-PATH receive negotiated.
// OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH always get the plain form.
SubtypeChoice choose_subtype(std::span<const std::uint8_t> message,
                             const codec::bgp::ParseContext& context);

}  // namespace bgpscribe::exporters::mrt
