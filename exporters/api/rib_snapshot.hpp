// RibSnapshot: a frozen view of every peer's Adj-RIB-In, for exporters that dump whole tables
// (MRT TABLE_DUMP_V2, BMP initial route monitoring, SQL RIB tables).
//
// The collector takes it between two records, so it agrees exactly with the update stream:
// every record before the snapshot is in it, none after. Reading it never blocks the sessions
// (the collector copies a peer's table on write while a snapshot holds it). It is read-only
// and may be read from the exporter's thread while the collector goes on.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/ip.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::exporters {

// One route of one peer for one prefix.
struct RibRoute {
  std::uint16_t peer_index = 0;  // into RibSnapshot::peers()
  std::uint32_t path_id = 0;     // 0 unless ADD-PATH was negotiated for the family
  std::uint32_t originated = 0;  // Unix seconds when the route was last announced
  // The route's path attributes in the TABLE_DUMP_V2 form (RFC 6396 section 4.3.4): AS_PATH
  // and AGGREGATOR with 4-octet ASNs, MP_REACH_NLRI reduced to next-hop length and next hop,
  // no MP_UNREACH_NLRI. The other attributes are exactly as received.
  std::span<const std::uint8_t> attributes;
};

struct RibPeer {
  PeerInfoPtr info;
  // Families negotiated with ADD-PATH receive on the session the routes came from.
  std::vector<codec::bgp::AfiSafi> add_path;
  // Since the session came up (BMP Statistics Report types 2, 11 and 12): withdrawals of
  // routes not held, and UPDATEs and their prefixes treated as withdrawals (RFC 7606).
  std::uint64_t unknown_withdrawals = 0;
  std::uint64_t treat_as_withdraw_updates = 0;
  std::uint64_t treat_as_withdraw_prefixes = 0;
  [[nodiscard]] bool add_path_for(codec::bgp::AfiSafi f) const;
};

class RibSnapshot {
 public:
  virtual ~RibSnapshot() = default;
  // Unix time in microseconds of the moment the snapshot was taken.
  [[nodiscard]] virtual std::int64_t time_us() const = 0;
  // Every peer with a table (Established, or holding stale routes under graceful restart).
  [[nodiscard]] virtual const std::vector<RibPeer>& peers() const = 0;
  // Families with at least one route, in a stable order (IPv4 unicast, IPv4 multicast, IPv6
  // unicast, IPv6 multicast, then the others).
  [[nodiscard]] virtual std::vector<codec::bgp::AfiSafi> families() const = 0;
  [[nodiscard]] virtual std::size_t route_count() const = 0;
  // Calls `f` once per prefix of `family` in ascending prefix order (address, then length)
  // with every peer's routes for it, ordered by peer index and path id.
  virtual void for_each_prefix(
      codec::bgp::AfiSafi family,
      const std::function<void(const codec::bgp::Prefix&, std::span<const RibRoute>)>& f) const = 0;
};

}  // namespace bgpscribe::exporters
