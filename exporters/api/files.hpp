// Files that replace each other whole: the one home of "temporary file, sync, rename, sync the
// folder", used by the collector (status.json), the MRT exporter (finished files) and the
// postgres exporter (batch files, its position and status.json).
//
// Readers of a replaced file see the old content or the new one, never a mix. "Durable" adds
// what a power loss needs: the data synced before the rename, and the folder synced after it
// (a rename lives in the folder). Status files, rewritten every second for readers, skip that.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace bgpscribe::exporters {

enum class Durability : std::uint8_t {
  Atomic,   // all or nothing for readers and crashes of the process
  Durable,  // and on disk when the call returns (fdatasync, then fsync of the folder)
};

// Replaces `path` with `bytes` through `.NAME.tmp` in the same folder. Throws
// std::system_error naming the file and what failed.
void replace_file(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                  Durability durability);
void replace_file(const std::filesystem::path& path, std::string_view text, Durability durability);

// fsync of a file or a folder (after a rename or an unlink in it); false with errno set.
bool sync_path(const std::filesystem::path& path);
// sync_path() of the folder holding `path` ("." for a bare name).
bool sync_parent(const std::filesystem::path& path);

}  // namespace bgpscribe::exporters
