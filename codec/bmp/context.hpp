// The ParseContext for a BMP peer's Route Monitoring PDUs (RFC 7854 section 4.10, RFC 8671
// section 4, RFC 7911 section 5; PROTOCOLS.md 7.8).
//
// BMP does not say how the embedded UPDATEs are encoded; a station derives it from the two
// OPENs of the peer's Peer Up and from the A and O flags of each message. This module only
// computes; it does not remember peers (the station keys them by router, peer type,
// distinguisher and address).
#pragma once

#include <cstdint>

#include "codec/bgp/open.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/bmp/message.hpp"
#include "codec/wire/result.hpp"

namespace bgpscribe::codec::bmp {

// The context for UPDATEs of `peer` (the per-peer header of the Route Monitoring message)
// given the two parsed OPENs of its Peer Up:
//  * AS width from the A flag (A set = 2-octet AS_PATH), as RFC 7854 section 4.2 defines;
//  * path identifiers on a family when, for Adj-RIB-In (O clear), the received OPEN
//    advertised Send and the sent OPEN Receive; for Adj-RIB-Out (O set, RFC 8671) the other
//    way round. Loc-RIB peers (RFC 9069) have neither flag;
//  * extended messages when both OPENs carry capability 6;
//  * iBGP when both real ASNs agree, eBGP otherwise; unknown (both false) for Loc-RIB.
bgp::ParseContext route_monitoring_context(const bgp::Open& sent, const bgp::Open& received,
                                           const PerPeerHeader& peer);

// The same from a Peer Up message: parses both OPENs (RFC 4271 section 4.2) and fails with
// the OPEN's error when one of them does not parse.
[[nodiscard]] Result<bgp::ParseContext> route_monitoring_context(const PeerUp& peer_up,
                                                                 const PerPeerHeader& peer);

// True when the A flag agrees with capability 65 in both OPENs (PROTOCOLS.md 7.8 asks for
// this cross-check; on disagreement the A flag still decides, and a station may log it).
bool as_width_consistent(const bgp::Open& sent, const bgp::Open& received,
                         const PerPeerHeader& peer);

}  // namespace bgpscribe::codec::bmp
