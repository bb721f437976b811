// The collector's state as the live API shows it (collector/api/ turns it into Protobuf): taken
// on the io thread by Collector::status_view(), then read anywhere. Plain values, so that the
// core needs no Protobuf.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/ip.hpp"
#include "collector/rib/peer_counters.hpp"
#include "exporters/api/exporter.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::collector {

struct ListenerView {
  codec::bgp::IpAddress address{};
  std::uint16_t port = 0;
  std::string kind;  // "bgp", "bmp"
};

struct PeerView {
  exporters::PeerInfoPtr info;
  exporters::SessionState state = exporters::SessionState::Idle;
  std::int64_t state_since_us = 0;  // 0: not since this run started
  std::string last_error;
  std::vector<codec::bgp::AfiSafi> families;  // negotiated (Established only)
  std::vector<std::string> capabilities;      // negotiated, by name
  std::vector<std::pair<codec::bgp::AfiSafi, std::size_t>> prefixes;
  std::uint64_t messages = 0;  // received this run
  std::int64_t last_update_us = 0;
  // For the metrics endpoint: what the peer sent since it was first seen in this run (per
  // family, with the routes held), and how often its session left Established.
  rib::PeerCounters counters;
  std::uint64_t sessions_ended = 0;
};

struct ExporterView {
  std::string name;
  std::string type;
  std::uint64_t pushed = 0;
  std::uint64_t delivered = 0;
  std::uint64_t queued = 0;
  std::uint64_t spooled = 0;
  std::uint64_t failed = 0;
  std::uint64_t dropped = 0;
  std::int64_t lag_us = 0;  // age of the oldest record waiting, about (0: none waiting)
  std::vector<std::string> alarms;
  // The exporter's own figures (Exporter::metrics) and the worker's delivery-lag histogram:
  // counts per bucket of WorkerStats::kLagBoundsUs, the last one above every bound.
  std::vector<exporters::Metric> details;
  std::vector<std::uint64_t> lag_buckets;
  std::uint64_t lag_sum_us = 0;
};

// Connections and sessions refused before they could be recorded, by reason (the metrics
// endpoint's bgpscribe_refused_total).
struct RefusedView {
  std::uint64_t unmatched = 0;     // no configured peer or dynamic range for the address
  std::uint64_t range_full = 0;    // a dynamic range at max_peers
  std::uint64_t pending_full = 0;  // a dynamic range at max_pending connections before OPEN
  std::uint64_t no_open = 0;       // dynamic connections gone before an OPEN was accepted
  std::uint64_t open_refused = 0;  // OPENs answered with a NOTIFICATION (wrong AS, ...)
  std::uint64_t malformed = 0;     // sessions reset for a malformed message
};

struct StatusView {
  std::string name;
  std::uint32_t local_as = 0;
  std::uint32_t bgp_id = 0;  // host order
  std::int64_t started_us = 0;
  std::int64_t now_us = 0;
  std::vector<ListenerView> listeners;
  std::uint64_t messages = 0;
  std::uint64_t state_changes = 0;
  std::uint64_t routes = 0;
  std::uint64_t attribute_sets = 0;
  std::uint64_t rib_bytes = 0;
  std::vector<PeerView> peers;
  std::vector<ExporterView> exporters;
  RefusedView refused;
  std::uint64_t attributes_discarded = 0;  // UPDATEs with an attribute discarded (RFC 7606)
  std::uint64_t reloads = 0;
  std::uint64_t reloads_refused = 0;
  std::uint64_t snapshots = 0;
};

}  // namespace bgpscribe::collector
