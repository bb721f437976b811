// Fuzz target for the postgres exporter's batch files (exporters/postgres/batch.cpp): spooled
// batches are read back after a crash or an outage, so a damaged file must be refused, never
// crash the collector. The first input byte modulo 8 says what the rest is:
// - 1 to 4, and 0 for 5: the body of a file of that version (older collectors spooled them; 2
//   has XXH3 parts); the target adds the magic and the CRC-32 the real files carry, so the body
//   parser is reached;
// - 5 and 7: the entries of a version 6 or 7 file (7: the peers carry their BMP source), each a
//   u16 length and its bytes (the last one takes what is left); the target frames them with the
//   header and CRC-32Cs the real files carry;
// - 6: a whole file as it is, framing and all.
// (Modes 0 to 6 were taken modulo 7 before version 7: the seeds, whose first bytes are below 7,
// keep their meaning.) A framed file that parses must serialize to the same bytes when it is of
// the version the writer chooses for its peers (7 with a BMP peer, else 6; a version 7 file
// without one is rewritten as version 6); any file rewritten must parse back to the same, its
// parts, split and journal number kept (the journal number from version 4 on), its peers'
// BMP sources too; and walking the COPY data (as the writer does to map peer ids and split
// parts) must stay in bounds.
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "exporters/api/framed_file.hpp"
#include "exporters/postgres/batch.hpp"
#include "exporters/postgres/copy.hpp"

namespace {

using bgpscribe::exporters::postgres::Batch;
using bgpscribe::exporters::postgres::BatchPeer;

std::vector<std::uint8_t> legacy_file(int version, std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> file = {'B', 'G', 'P', 'S',
                                    'P', 'G', 'B', static_cast<std::uint8_t>('0' + version)};
  file.insert(file.end(), body.begin(), body.end());
  const auto crc =
      static_cast<std::uint32_t>(::crc32(0L, file.data(), static_cast<uInt>(file.size())));
  for (int s = 24; s >= 0; s -= 8) {
    file.push_back(static_cast<std::uint8_t>(crc >> s));
  }
  return file;
}

std::vector<std::uint8_t> framed_file(std::uint16_t version,
                                      std::span<const std::uint8_t> entries) {
  bgpscribe::codec::wire::Writer w;
  bgpscribe::exporters::put_framed_header(w, bgpscribe::exporters::FramedKind{"PGBT", version, 6});
  std::size_t at = 0;
  for (int n = 0; n < 6 && at < entries.size(); ++n) {
    std::size_t length = entries.size() - at;
    if (length >= 2) {
      length = std::min<std::size_t>((std::size_t{entries[at]} << 8) | entries[at + 1], length - 2);
      at += 2;
    }
    bgpscribe::exporters::put_framed_entry(w, entries.subspan(at, length));
    at += length;
  }
  return w.take();
}

}  // namespace

// libFuzzer's name for the entry point.
extern "C" int LLVMFuzzerTestOneInput(  // NOLINT(readability-identifier-naming)
    const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::span<const std::uint8_t> input(data, size);
  const int mode = input[0] % 8;
  const int version = mode == 0 ? 5 : mode <= 4 ? mode : 6;
  const std::span<const std::uint8_t> rest = input.subspan(1);
  // Exactly sized, so that over-reads show under ASan.
  const std::vector<std::uint8_t> file = mode == 6   ? std::vector(rest.begin(), rest.end())
                                         : mode == 5 ? framed_file(6, rest)
                                         : mode == 7 ? framed_file(7, rest)
                                                     : legacy_file(version, rest);
  std::string error;
  auto batch = Batch::parse(file, error);
  if (!batch) {
    if (error.empty()) {
      std::abort();  // a refusal always says why
    }
    return 0;
  }
  const auto again = batch->serialize();
  // "BGPSPGBT" and the u16 version: a framed file, version 6 on.
  const bool framed = file.size() >= 10 && file[7] == 'T';
  const int file_version = framed ? (file[8] << 8) | file[9] : version;
  const bool bmp = std::any_of(batch->peers.begin(), batch->peers.end(),
                               [](const BatchPeer& p) { return p.from_bmp(); });
  if (framed && file_version == (bmp ? 7 : 6) && again != file) {
    std::abort();
  }
  if (framed && file_version == 7 && !bmp && again.size() >= 10 && again[9] != 6) {
    std::abort();  // without a BMP peer the writer keeps to version 6
  }
  auto back = Batch::parse(again, error);
  if (!back || back->serialize() != again || back->parts != batch->parts ||
      back->split != batch->split || back->last_seq != batch->last_seq ||
      back->peers.size() != batch->peers.size() || (version == 1 && back->parts != 1) ||
      (version < 4 && back->last_seq != 0)) {
    std::abort();
  }
  for (std::size_t i = 0; i < back->peers.size(); ++i) {
    const BatchPeer& p = batch->peers[i];
    const BatchPeer& q = back->peers[i];
    if (q.router != p.router || q.bmp_peer_type != p.bmp_peer_type ||
        q.distinguisher != p.distinguisher || q.post_policy != p.post_policy ||
        (p.from_bmp() && q.router_address != p.router_address)) {
      std::abort();
    }
  }
  std::vector<std::pair<std::size_t, std::int32_t>> fields;
  for (auto* copy : {&batch->attrs, &batch->updates, &batch->rib}) {
    if (copy->empty()) {
      continue;
    }
    bgpscribe::exporters::postgres::CopyTuples tuples(*copy);
    while (tuples.next(fields)) {
      for (const auto& [at, length] : fields) {
        if (length > 0 && at + static_cast<std::size_t>(length) > copy->size()) {
          std::abort();
        }
      }
    }
  }
  return 0;
}
