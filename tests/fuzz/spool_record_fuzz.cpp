// Fuzz target for the collector's spool record decoder (collector/core/spool.cpp): spool
// segments are files that a crash may cut short or a disk may damage, read back at the next
// start. A record that decodes must encode to the same bytes and decode to the same record.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "collector/core/spool.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exactly-sized heap copy so that over-reads show under ASan.
  std::vector<std::uint8_t> input(data, data + size);  // NOLINT
  std::uint64_t snapshot = 0;
  auto r = bgpscribe::collector::Spool::decode(input, snapshot);
  if (!r) {
    return 0;
  }
  std::vector<std::uint8_t> again;
  bgpscribe::collector::Spool::encode(*r, snapshot, again);
  // encode() prefixes the 4-byte length; decode() takes the body. A record of a spool written
  // before the journal has no journal number (read as 0): it encodes with one added at the end.
  std::size_t body = again.size() - 4;
  if (r->seq == 0 && body == input.size() + 8) {
    body = input.size();
  }
  if (again.size() < 4 || body != input.size() ||
      !std::equal(again.begin() + 4, again.begin() + 4 + static_cast<std::ptrdiff_t>(body),
                  input.begin())) {
    std::abort();
  }
  return 0;
}
