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
  // encode() prefixes the 4-byte length; decode() takes the body. Fields that older spools
  // lack at the end (the journal number, a PeerDown's graceful restart families and time) are
  // read as 0 and encode as zero bytes added at the end.
  if (again.size() < 4 + input.size() ||
      !std::equal(input.begin(), input.end(), again.begin() + 4) ||
      !std::all_of(again.begin() + 4 + static_cast<std::ptrdiff_t>(input.size()), again.end(),
                   [](std::uint8_t b) { return b == 0; })) {
    std::abort();
  }
  return 0;
}
