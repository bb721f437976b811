// Test support: reading files whole, and listing what a directory holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bgpscribe::tests {

// The whole file, byte for byte; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);
std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path);

// Every regular file under `dir`, as paths relative to it, sorted.
std::vector<std::string> files_under(const std::filesystem::path& dir);

}  // namespace bgpscribe::tests
