// Records as the Protobuf events of schema/proto/bgpscribe/v1/events.proto: what the live API
// and the Kafka exporter carry.
//
// An UPDATE becomes one RouteEvent per prefix it withdraws or announces (withdrawals first, as
// RFC 4271 section 9 applies them), each with the peer, the decoded attributes and the
// collector's RFC 7606 decision; a treat-as-withdraw UPDATE gives withdrawals. A session's
// state changes become PeerEvents: reaching Established carries both OPENs (from the PeerUp
// record, which follows the state change), leaving it the NOTIFICATION (from the PeerDown
// record); the state change records of those two steps give nothing themselves, so each step
// is one event. Other messages (OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH), Start, StaleEnd
// and RibSnapshot records give none here (a snapshot is streamed by whoever takes it).
// Decoding is the codec's, as every other output's (docs/api.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "bgpscribe/v1/events.pb.h"
#include "codec/bgp/afi_safi.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::exporters::events {

struct Options {
  std::string collector;    // Peer.collector
  bool raw_update = false;  // fill RouteEvent.raw_update
};

// Appends the events of `record` to `out` (see above); returns how many.
std::size_t append_events(const Record& record, const Options& options,
                          google::protobuf::RepeatedPtrField<bgpscribe::v1::Event>& out);

// The Attributes message of a route held in a table of `family`: RibRoute::attributes (the
// TABLE_DUMP_V2 form, 4-octet ASNs, MP_REACH_NLRI reduced to its next hop).
void fill_rib_attributes(std::span<const std::uint8_t> attributes, codec::bgp::AfiSafi family,
                         bgpscribe::v1::Attributes& out);

// The Peer message of a record's peer.
void fill_peer(const PeerInfo& info, const std::string& collector, bgpscribe::v1::Peer& out);

}  // namespace bgpscribe::exporters::events
