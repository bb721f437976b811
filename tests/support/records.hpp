// Test support: exporter Records and their peers, as the collector hands them to exporters.
// Header-only: the tests that use it link bgpscribe::exporter_api already.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::tests {

// A peer at `peer_ip` (AS `peer_as`) seen from `local_ip` (none when empty), AS `local_as`; BGP
// identifiers `peer_id` and 192.0.2.1.
inline exporters::PeerInfoPtr make_peer(const std::string& peer_ip, std::uint32_t peer_as,
                                        const std::string& local_ip = "",
                                        std::uint32_t local_as = 64496,
                                        std::uint32_t peer_id = 0x0A000001, std::uint32_t id = 1) {
  auto p = std::make_shared<exporters::PeerInfo>();
  p->id = id;
  p->name = peer_ip;
  p->peer_address = *codec::bgp::IpAddress::parse(peer_ip);
  if (!local_ip.empty()) {
    p->local_address = *codec::bgp::IpAddress::parse(local_ip);
  }
  p->peer_as = peer_as;
  p->local_as = local_as;
  p->peer_bgp_id = peer_id;
  p->local_bgp_id = 0xC0000201;  // 192.0.2.1
  return p;
}

// A BGP message received from `peer` at `time_us`.
inline exporters::Record message_record(std::int64_t time_us, exporters::PeerInfoPtr peer,
                                        const std::vector<std::uint8_t>& message, bool as4 = true) {
  exporters::Record r;
  r.type = exporters::RecordType::Message;
  r.time_us = time_us;
  r.peer = std::move(peer);
  r.message = exporters::SharedBytes(message);
  r.context.four_octet_as = as4;
  return r;
}

// `peer`'s session going from `from` to `to` at `time_us`.
inline exporters::Record state_record(std::int64_t time_us, exporters::PeerInfoPtr peer,
                                      exporters::SessionState from, exporters::SessionState to,
                                      std::string reason = "") {
  exporters::Record r;
  r.type = exporters::RecordType::StateChange;
  r.time_us = time_us;
  r.peer = std::move(peer);
  r.old_state = from;
  r.new_state = to;
  r.reason = std::move(reason);
  return r;
}

}  // namespace bgpscribe::tests
