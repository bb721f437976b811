// Fuzz target for the collector's journal reader (collector/core/journal.cpp): segment files are
// read back at every start after whatever ended the previous run (a crash cuts an entry short,
// a disk damages a page). The input is one segment's bytes: reading it must never crash or read
// outside the file, and the journal must go on numbering after every record it holds.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "collector/core/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                           ("bgpscribe-journal-fuzz-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "00000000000000000001.journal", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));  // NOLINT
  }
  bgpscribe::collector::JournalOptions o;
  o.directory = dir.string();
  bgpscribe::collector::Journal journal(o);
  std::uint64_t last = 0;
  (void)journal.replay(0, [&](std::uint64_t seq, bgpscribe::exporters::Record&&) {
    if (seq == 0) {
      std::abort();  // replay(0) gives only numbers above 0
    }
    last = seq;
  });
  if (journal.last_seq() < last) {
    std::abort();  // the journal goes on after every number it holds
  }
  return 0;
}
