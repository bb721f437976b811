// `bgpscribe dump`: MRT files and raw BMP streams to text, bgpdump-compatible (-m/-M), JSON
// lines or RIS Live lines.
//
// Reads plain, gzip and bzip2 files and stdin through the codec's streaming reader; BMP route
// messages are shown as the MRT records of the monitored peers (tools/bmp_input.hpp). A malformed
// record is reported on stderr with file, record index and byte offset, skipped when its
// length still frames the next record, and counted; the exit status says whether any error
// occurred. Output is buffered in large blocks.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "tools/bgpdump_format.hpp"

namespace bgpscribe::tools {

enum class DumpFormat { Bgpdump, Json, RisLive };

// What the files hold: MRT records or a raw BMP stream (tools/bmp_input.hpp); Auto decides
// per file by its first uncompressed bytes (stdin is MRT unless told).
enum class DumpInput { Auto, Mrt, Bmp };

// `--format NAME`: "bgpdump" (-m/-M), "json" or "ris-live"; false for other names.
bool parse_dump_format(std::string_view name, DumpFormat& format);

// `--input NAME`: "mrt" or "bmp"; false for other names.
bool parse_dump_input(std::string_view name, DumpInput& input);

struct DumpOptions {
  DumpFormat format = DumpFormat::Bgpdump;
  DumpInput input = DumpInput::Auto;
  BgpdumpOptions bgpdump;
  std::vector<std::string> files;
  std::string output = "-";  // "-" for stdout
  bool quiet = false;        // no per-record error messages (the summary still counts them)
  bool progress = true;      // a progress line on stderr when it is a terminal
  bool summary = false;      // always print the summary (otherwise only after errors)
};

struct DumpStats {
  std::uint64_t records = 0;
  std::uint64_t errors = 0;    // malformed records and stream failures: exit status 1
  std::uint64_t warnings = 0;  // records printed with a guess or a skip (docs/dump.md)
  std::uint64_t bytes = 0;     // uncompressed
};

// Runs the dump; returns the process exit status (0 clean, 1 errors in the input, 2 usage or
// I/O failure).
int run_dump(const DumpOptions& options, DumpStats* stats = nullptr);

}  // namespace bgpscribe::tools
