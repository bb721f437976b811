// Counters of the MRT exporter. Written only by the exporter's thread; read them from that
// thread (or after stop()).
#pragma once

#include <cstdint>

namespace bgpscribe::exporters::mrt {

struct Metrics {
  std::uint64_t records_written = 0;    // MRT records handed to files (updates and RIB)
  std::uint64_t bytes_written = 0;      // their uncompressed bytes
  std::uint64_t files_finished = 0;     // renamed to their final name
  std::uint64_t write_errors = 0;       // failed writes, flushes, closes, renames
  std::uint64_t disk_waits = 0;         // times accept() waited for a disk refusing writes
  std::uint64_t records_refused = 0;    // ExportError thrown: the record could not be kept
  std::uint64_t messages = 0;           // BGP4MP message records
  std::uint64_t add_path_messages = 0;  // of which _ADDPATH subtypes
  // UPDATEs of ADD-PATH sessions whose fields did not walk (written raw, plain subtype).
  std::uint64_t malformed_updates = 0;
  std::uint64_t add_path_conflicts = 0;  // mixed-family UPDATEs whose families disagree
  std::uint64_t state_changes = 0;       // STATE_CHANGE_AS4 records
  std::uint64_t ignored_records = 0;     // PeerUp/PeerDown, snapshots with RIB dumps off
  std::uint64_t rib_dumps = 0;           // RIB files finished
  std::uint64_t rib_records = 0;         // RIB_* records (PEER_INDEX_TABLE not counted)
  std::uint64_t rib_routes_skipped = 0;  // routes of families TABLE_DUMP_V2 RIB_* cannot hold
  std::uint64_t files_recovered = 0;     // temporaries turned into finished files
  std::uint64_t records_recovered = 0;
  std::uint64_t recovery_bytes_dropped = 0;
};

}  // namespace bgpscribe::exporters::mrt
