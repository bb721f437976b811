#include "codec/bmp/context.hpp"

#include "codec/bgp/capability.hpp"

namespace bgpscribe::codec::bmp {

namespace {

// Every family a speaker listed in its ADD-PATH capability.
std::vector<bgp::AfiSafi> add_path_families(const bgp::Open& open) {
  std::vector<bgp::AfiSafi> out;
  for (const auto* cap : open.find_all<bgp::AddPathCapability>()) {
    for (const auto& t : cap->tuples) {
      out.push_back(t.family);
    }
  }
  return out;
}

}  // namespace

// RFC 7854 sections 4.2 and 4.10, RFC 8671 section 4, RFC 7911 section 5.
bgp::ParseContext route_monitoring_context(const bgp::Open& sent, const bgp::Open& received,
                                           const PerPeerHeader& peer) {
  bgp::ParseContext ctx;
  ctx.four_octet_as = !peer.legacy_as_path();
  ctx.extended_message = sent.has_capability(bgp::CapabilityCode::ExtendedMessage) &&
                         received.has_capability(bgp::CapabilityCode::ExtendedMessage);
  // The OPENs tell the session kind of a monitored peer; a Loc-RIB mixes routes from every
  // kind of session, so it stays unknown (both false) there.
  if (!peer.is_loc_rib()) {
    ctx.ibgp = bgp::real_as(sent) == bgp::real_as(received);
    ctx.ebgp = !ctx.ibgp;
  }
  // Adj-RIB-In PDUs travelled from the peer to the router; Adj-RIB-Out PDUs the other way.
  const bgp::Open& sender = peer.adj_rib_out() ? sent : received;
  const bgp::Open& receiver = peer.adj_rib_out() ? received : sent;
  for (const auto& family : add_path_families(sender)) {
    if (bgp::add_path_on_wire(sender, receiver, family)) {
      ctx.set_add_path(family, true);
    }
  }
  return ctx;
}

Result<bgp::ParseContext> route_monitoring_context(const PeerUp& peer_up,
                                                   const PerPeerHeader& peer) {
  auto sent = bgp::parse_open(peer_up.sent_open);
  if (!sent) {
    return fail(sent.error());
  }
  auto received = bgp::parse_open(peer_up.received_open);
  if (!received) {
    return fail(received.error());
  }
  return route_monitoring_context(*sent, *received, peer);
}

bool as_width_consistent(const bgp::Open& sent, const bgp::Open& received,
                         const PerPeerHeader& peer) {
  const bool as4 = sent.has_capability(bgp::CapabilityCode::FourOctetAs) &&
                   received.has_capability(bgp::CapabilityCode::FourOctetAs);
  return as4 == !peer.legacy_as_path();
}

}  // namespace bgpscribe::codec::bmp
