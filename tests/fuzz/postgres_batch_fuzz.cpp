// Fuzz target for the postgres exporter's batch files (exporters/postgres/batch.cpp): spooled
// batches are read back after a crash or an outage, so a damaged file must be refused, never
// crash the collector. The input is a version byte and a file body; the target adds the magic
// and the CRC-32 the real files carry, so the body parser is reached. The version byte modulo
// 5: 0 the current format (5), 1 to 4 versions 1 to 4 (older collectors spooled them; 2 has
// XXH3 parts). A version 2 or 5 body that parses must serialize to the same file (a version 1,
// 3 or 4 one, rewritten in the current format, to a file that parses back to the same, its
// journal number kept from version 4 on), and walking its COPY data (as the writer does to map
// peer ids and split parts) must stay in bounds.
#include <zlib.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "exporters/postgres/batch.hpp"
#include "exporters/postgres/copy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const int version = data[0] % 5 == 0 ? 5 : data[0] % 5;
  const bool rewritten = version == 1 || version == 3 || version == 4;
  std::vector<std::uint8_t> file = {'B', 'G', 'P', 'S',
                                    'P', 'G', 'B', static_cast<std::uint8_t>('0' + version)};
  file.insert(file.end(), data + 1, data + size);
  const auto crc =
      static_cast<std::uint32_t>(::crc32(0L, file.data(), static_cast<uInt>(file.size())));
  for (int s = 24; s >= 0; s -= 8) {
    file.push_back(static_cast<std::uint8_t>(crc >> s));
  }
  std::string error;
  auto batch = bgpscribe::exporters::postgres::Batch::parse(file, error);
  if (!batch) {
    if (error.empty()) {
      std::abort();  // a refusal always says why
    }
    return 0;
  }
  const auto again = batch->serialize();
  if (rewritten) {
    auto back = bgpscribe::exporters::postgres::Batch::parse(again, error);
    if (!back || (version == 1 && back->parts != 1) ||
        back->last_seq != (version == 4 ? batch->last_seq : 0) || back->serialize() != again) {
      std::abort();
    }
  } else if (again != file) {
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
