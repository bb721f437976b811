// File names of the MRT exporter: strftime templates (UTC) with {collector}, intervals aligned
// to the Unix epoch, temporary (".partial") names and continuation names.
//
// Pure string and arithmetic work except name_is_free(), which looks at the file system; nothing
// here creates or removes files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace bgpscribe::exporters::mrt {

// Expands `tmpl`: {collector} becomes `collector`, then strftime conversions are applied to
// `unix_seconds` in UTC. Returns directory / result.
std::filesystem::path expand_template(const std::string& directory, const std::string& tmpl,
                                      const std::string& collector, std::int64_t unix_seconds);

// Start of the interval that holds `unix_seconds` (multiples of `interval` since the epoch).
constexpr std::int64_t interval_start(std::int64_t unix_seconds, std::int64_t interval) {
  if (interval <= 0) {
    return unix_seconds;
  }
  const std::int64_t q = unix_seconds / interval;
  const std::int64_t start = q * interval;
  return start > unix_seconds ? start - interval : start;  // floor for negative times
}

// The compression extension of a name (".gz", ".bz2") or "".
std::string compression_extension(const std::string& filename);

// "updates.20261204.0415.gz" + "1" -> "updates.20261204.0415.1.gz": `tag` goes before the
// compression extension so that tools still recognise the file.
std::filesystem::path with_tag(const std::filesystem::path& file, const std::string& tag);

// The temporary a file is written as: ".<name>.partial" in the same directory.
std::filesystem::path partial_path(const std::filesystem::path& final_path);
// The temporary recovery writes into: ".<name>.recovering".
std::filesystem::path recovering_path(const std::filesystem::path& final_path);
inline constexpr const char* kPartialSuffix = ".partial";
inline constexpr const char* kRecoveringSuffix = ".recovering";

// True when neither the file nor its temporaries exist; `own_partial` (the temporary being
// recovered) does not count.
bool name_is_free(const std::filesystem::path& final_path,
                  const std::filesystem::path& own_partial = {});
// `wanted` if free, else the first free continuation name wanted.1, wanted.2, ... (tag inserted
// before the compression extension).
std::filesystem::path first_free_name(const std::filesystem::path& wanted,
                                      const std::filesystem::path& own_partial = {});

}  // namespace bgpscribe::exporters::mrt
