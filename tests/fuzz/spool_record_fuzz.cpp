// Fuzz target for the collector's spool (collector/core/spool.cpp): segments are files that a
// crash may cut short or a disk may damage, read back at the next start. The input is one
// record's encoding (an entry's payload), used three ways:
// - decoded: a record that decodes must encode to the same bytes and decode to the same record;
// - framed as the one entry of a version 2 segment: the segment reader must give that record,
//   or count one bad entry when it does not decode;
// - read as a whole segment file of either version (a version 1 one, without a header, or a
//   framed one when it begins with "BGPS"): never a crash or a read outside the input, and every
//   entry is a record delivered or one counted bad.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "collector/core/spool.hpp"
#include "exporters/api/framed_file.hpp"

using bgpscribe::collector::Spool;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exactly-sized heap copy so that over-reads show under ASan.
  std::vector<std::uint8_t> input(data, data + size);  // NOLINT
  std::uint64_t snapshot = 0;
  auto r = Spool::decode(input, snapshot);
  if (r) {
    bgpscribe::codec::wire::Writer again;
    Spool::encode_body(*r, snapshot, again);
    // Fields that older spools lack at the end (the journal number, a PeerDown's graceful
    // restart families and time) are read as 0 and encode as zero bytes added at the end.
    const auto bytes = again.bytes();
    if (bytes.size() < input.size() || !std::equal(input.begin(), input.end(), bytes.begin()) ||
        !std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(input.size()), bytes.end(),
                     [](std::uint8_t b) { return b == 0; })) {
      std::abort();
    }
  }

  bgpscribe::codec::wire::Writer segment;
  bgpscribe::exporters::put_framed_header(segment, Spool::kSegmentKind);
  bgpscribe::exporters::put_framed_entry(segment, input);
  const std::vector<std::uint8_t> framed(segment.bytes().begin(), segment.bytes().end());
  std::size_t records = 0;
  const auto one = Spool::read_records(
      framed, "fuzz", [&](bgpscribe::exporters::Record&& back, std::uint64_t back_snapshot) {
        ++records;
        if (!r || back.time_us != r->time_us || back.seq != r->seq || back_snapshot != snapshot) {
          std::abort();
        }
      });
  if (one.refused || records != (r ? 1U : 0U) || one.records != records ||
      one.bad != (r ? 0U : 1U)) {
    std::abort();
  }

  const auto any =
      Spool::read_records(input, "fuzz", [](bgpscribe::exporters::Record&&, std::uint64_t) {});
  if (any.records + any.bad > input.size() || (any.refused && any.records != 0)) {
    std::abort();  // every entry or record takes at least one byte of the file
  }
  return 0;
}
