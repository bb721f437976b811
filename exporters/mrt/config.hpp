// Options of the MRT exporter (`type: mrt`): presets, file name templates, rotation intervals,
// compression, record format, and how they are read from the config with file:line errors.
//
// Pure configuration: nothing here touches files or the clock. docs/mrt-exporter.md documents
// every option; keep the two in step.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "codec/mrt/file.hpp"

namespace YAML {
class Node;
}

namespace bgpscribe::exporters {
struct ExporterContext;
}

namespace bgpscribe::exporters::mrt {

// BGP4MP_ET (microsecond timestamps, RFC 6396 section 3) or plain BGP4MP (seconds) for tools
// that do not read _ET records (mrtparse 1.6).
enum class Format : std::uint8_t { Bgp4mpEt, Bgp4mp };

// The default gzip level: level 1 keeps one exporter thread well above 2 M prefixes/s of
// UPDATE records on one core, level 6 does not (docs/mrt-exporter.md has the figures).
inline constexpr int kDefaultGzipLevel = 1;

struct Options {
  std::string collector_name;  // replaces {collector} in the templates; view name of RIB dumps
  std::string directory;       // every template is relative to it
  std::string updates_file;    // strftime template (UTC) with {collector}
  std::int64_t updates_interval = 300;  // seconds; 0 = one file from the first record to stop
  std::string rib_file;                 // empty: no RIB dumps at all
  std::int64_t rib_interval = std::int64_t{8} * 3600;  // seconds; 0 = only on-demand snapshots
  codec::mrt::Compression updates_compression = codec::mrt::Compression::Gzip;
  codec::mrt::Compression rib_compression = codec::mrt::Compression::Gzip;
  int gzip_level = kDefaultGzipLevel;  // 1-9
  int bzip2_block = 9;                 // 1-9 (x 100 kB)
  Format format = Format::Bgp4mpEt;
  std::chrono::milliseconds flush_interval{1000};
  // While the disk refuses writes, encoded records wait in memory up to this much; then
  // accept() waits for the disk and the collector's queue and spool take the records.
  std::uint64_t max_buffer = std::uint64_t{64} << 20;
  // Where the exporter keeps its journal position (set from the collector's state directory:
  // <state_directory>/mrt-<name>.position); empty: no position kept.
  std::string position_file;
  bool state_changes = true;
  std::optional<std::uint32_t> collector_bgp_id;  // host order; else the first peer's local id

  [[nodiscard]] bool rib_enabled() const { return !rib_file.empty(); }
};

// Reads the exporter's mapping (`type` and `name` included). Throws ConfigError naming the
// file, line and column of the bad value; unknown keys are refused.
Options parse_options(const ExporterContext& context, const YAML::Node& node);

// The compression a file name implies: ".gz" gzip, ".bz2" bzip2, anything else none.
codec::mrt::Compression compression_for_name(const std::string& name);

}  // namespace bgpscribe::exporters::mrt
