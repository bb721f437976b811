// Fuzz target for the postgres exporter's batch files (exporters/postgres/batch.cpp): spooled
// batches are read back after a crash or an outage, so a damaged file must be refused, never
// crash the collector. The first input byte modulo 7 says what the rest is:
// - 1 to 4, and 0 for 5: the body of a file of that version (older collectors spooled them; 2
//   has XXH3 parts); the target adds the magic and the CRC-32 the real files carry, so the body
//   parser is reached;
// - 5: the entries of a version 6 file, each a u16 length and its bytes (the last one takes what
//   is left); the target frames them with the header and CRC-32Cs the real files carry;
// - 6: a whole file as it is, framing and all.
// A version 6 file that parses must serialize to the same bytes; a file of another version
// rewritten (always as version 6) must parse back to the same, its parts, split and journal
// number kept (the journal number from version 4 on); and walking the COPY data (as the writer
// does to map peer ids and split parts) must stay in bounds.
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

std::vector<std::uint8_t> framed_file(std::span<const std::uint8_t> entries) {
  bgpscribe::codec::wire::Writer w;
  bgpscribe::exporters::put_framed_header(w, bgpscribe::exporters::FramedKind{"PGBT", 6, 6});
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

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const int mode = data[0] % 7;
  const int version = mode == 0 ? 5 : mode <= 4 ? mode : 6;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);  // NOLINT
  // Exactly sized, so that over-reads show under ASan.
  const std::vector<std::uint8_t> file = mode == 6   ? std::vector(rest.begin(), rest.end())
                                         : mode == 5 ? framed_file(rest)
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
  const bool framed = file.size() >= 8 && file[7] == 'T';  // "BGPSPGBT": version 6
  if (framed && again != file) {
    std::abort();
  }
  auto back = Batch::parse(again, error);
  if (!back || back->serialize() != again || back->parts != batch->parts ||
      back->split != batch->split || back->last_seq != batch->last_seq ||
      (version == 1 && back->parts != 1) || (version < 4 && back->last_seq != 0)) {
    std::abort();
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
