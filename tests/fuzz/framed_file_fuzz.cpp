// Fuzz target for the framed file reader (exporters/api/framed_file.cpp), which reads every spool
// segment and batch file back after a crash or a damaged disk. The first input byte says what
// the rest is: even, a file as it is; odd, a file whose header and entry CRCs the target first
// sets right (each entry where the length before it says), so that the walk gets past them.
// The reader must never read outside the file; every entry it gives must lie inside the file
// after the one before and check; and the entries written again into a file of their own must
// read back the same, to a clean end (the same bytes when the walk found nothing wrong).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "codec/wire/reader.hpp"
#include "exporters/api/framed_file.hpp"

namespace {

namespace ex = bgpscribe::exporters;

constexpr ex::FramedKind kKind{"FUZZ", 3, 2};

void set_crc(std::vector<std::uint8_t>& file, std::size_t at, std::uint32_t crc) {
  for (int i = 0; i < 4; ++i) {
    file[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  }
}

void repair(std::vector<std::uint8_t>& file) {
  if (file.size() < ex::kFramedHeaderBytes) {
    return;
  }
  set_crc(file, 12, ex::crc32c(std::span(file).first(12)));
  std::size_t at = ex::kFramedHeaderBytes;
  while (file.size() - at >= ex::kFramedEntryHeaderBytes) {
    const std::uint32_t length = bgpscribe::codec::wire::load_u32(file, at);
    if (length > file.size() - at - ex::kFramedEntryHeaderBytes) {
      break;
    }
    set_crc(file, at + 4,
            ex::crc32c(std::span(file).subspan(at + 8, length),
                       ex::crc32c(std::span(file).subspan(at, 4))));
    at += ex::kFramedEntryHeaderBytes + length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  // Exactly sized, so that over-reads show under ASan.
  std::vector<std::uint8_t> file(data + 1, data + size);  // NOLINT
  if ((data[0] & 1) != 0) {
    repair(file);
  }
  ex::FramedReader reader(file, kKind);
  std::vector<std::span<const std::uint8_t>> payloads;
  std::uint64_t next_at = ex::kFramedHeaderBytes;
  while (auto e = reader.next()) {
    const std::uint64_t end = e->offset + ex::kFramedEntryHeaderBytes + e->payload.size();
    if (e->offset < next_at || end > file.size() ||
        e->payload.data() != file.data() + e->offset + ex::kFramedEntryHeaderBytes ||
        ex::crc32c(e->payload, ex::crc32c(std::span(file).subspan(e->offset, 4))) !=
            bgpscribe::codec::wire::load_u32(file, e->offset + 4)) {
      std::abort();
    }
    next_at = end;
    payloads.push_back(e->payload);
  }
  if (!reader.ok()) {
    if (reader.error().empty() || !payloads.empty()) {
      std::abort();
    }
    return 0;
  }
  if (reader.end_offset() > file.size() || reader.problems("fuzz").size() > file.size()) {
    std::abort();
  }
  for (const auto& d : reader.damage()) {
    if (d.offset < ex::kFramedHeaderBytes || d.offset >= file.size()) {
      std::abort();
    }
  }
  if (file.size() < ex::kFramedHeaderBytes) {
    return 0;  // a torn header: no entries
  }
  bgpscribe::codec::wire::Writer again;
  ex::put_framed_header(again, ex::FramedKind{"FUZZ", reader.version(), 1});
  for (const auto& p : payloads) {
    ex::put_framed_entry(again, p);
  }
  ex::FramedReader back(again.bytes(), kKind);
  std::size_t n = 0;
  while (auto e = back.next()) {
    if (n >= payloads.size() ||
        !std::equal(e->payload.begin(), e->payload.end(), payloads[n].begin(), payloads[n].end())) {
      std::abort();
    }
    ++n;
  }
  if (!back.ok() || n != payloads.size() || back.end() != ex::FramedEnd::Clean ||
      !back.damage().empty()) {
    std::abort();
  }
  if (reader.damage().empty() && reader.end() == ex::FramedEnd::Clean &&
      !std::equal(file.begin(), file.end(), again.bytes().begin(), again.bytes().end())) {
    std::abort();
  }
  return 0;
}
