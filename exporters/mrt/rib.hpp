// RIB dumps: a RibSnapshot written as TABLE_DUMP_V2 (RFC 6396 section 4.3, RFC 8050 section 4):
// one PEER_INDEX_TABLE, then per family and prefix the RIB_IPV4/IPV6_UNICAST/MULTICAST
// records, and their _ADDPATH forms for routes of peers with ADD-PATH for the family.
//
// Encoding goes through codec/mrt/table_dump.hpp; the route attributes are already in the
// TABLE_DUMP_V2 form (RibRoute) and are copied unchanged. No file handling here beyond handing
// encoded bytes to a FileStream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "exporters/api/rib_snapshot.hpp"
#include "exporters/mrt/metrics.hpp"
#include "exporters/mrt/output.hpp"

namespace bgpscribe::exporters::mrt {

// A RIB record's entries are split so that no record body exceeds this (a prefix with many
// peers and paths then spans several records with the same prefix).
inline constexpr std::size_t kMaxRibRecordBody = 65535;

struct RibDumpResult {
  bool ok = false;
  std::uint64_t records = 0;  // RIB_* records (the PEER_INDEX_TABLE not counted)
  std::uint64_t routes = 0;
  std::uint64_t prefixes = 0;
};

// Writes `snapshot` into `stream` (which must have a name): PEER_INDEX_TABLE with
// `collector_bgp_id` (else the first peer's local BGP id) and `view_name`, then every plain
// prefix family. Routes of other families are counted in metrics.rib_routes_skipped.
// Syncs the stream every `sync_bytes`; false on a write error.
RibDumpResult write_rib(const RibSnapshot& snapshot, const std::string& view_name,
                        std::optional<std::uint32_t> collector_bgp_id, FileStream& stream,
                        std::size_t sync_bytes, Metrics& metrics);

}  // namespace bgpscribe::exporters::mrt
