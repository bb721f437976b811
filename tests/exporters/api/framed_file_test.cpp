// Framed files (exporters/api/framed_file.hpp): entries round-trip in memory and through a file,
// a cut at any byte of the last entry ends the walk cleanly without damage, a flipped bit is
// reported at its entry's offset and the walk goes on after it, and files of another kind or a
// newer version are refused with a message that says so.
#include "exporters/api/framed_file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/wire/reader.hpp"

namespace bgpscribe::exporters {
namespace {

namespace fs = std::filesystem;

constexpr FramedKind kTest{"TEST", 3, 2};

std::vector<std::uint8_t> payload(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> p(n);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = static_cast<std::uint8_t>(seed + i * 7);
  }
  return p;
}

// A file of `kTest` with `payloads`, and each entry's offset.
std::vector<std::uint8_t> file_of(const std::vector<std::vector<std::uint8_t>>& payloads,
                                  std::vector<std::size_t>* offsets = nullptr) {
  codec::wire::Writer w;
  put_framed_header(w, kTest);
  for (const auto& p : payloads) {
    if (offsets != nullptr) {
      offsets->push_back(w.size());
    }
    put_framed_entry(w, p);
  }
  return w.take();
}

struct Walk {
  bool ok = false;
  std::string error;
  std::vector<std::vector<std::uint8_t>> payloads;
  std::vector<std::uint64_t> offsets;
  FramedEnd end = FramedEnd::Clean;
  std::uint64_t end_offset = 0;
  std::vector<FramedDamage> damage;
  std::vector<std::string> problems;
};

Walk walk(std::span<const std::uint8_t> file, const FramedKind& kind = kTest) {
  // An exactly-sized copy: a read past the end shows under ASan.
  const std::vector<std::uint8_t> copy(file.begin(), file.end());
  FramedReader r(copy, kind);
  Walk w;
  w.ok = r.ok();
  w.error = r.error();
  while (auto e = r.next()) {
    w.payloads.emplace_back(e->payload.begin(), e->payload.end());
    w.offsets.push_back(e->offset);
  }
  w.end = r.end();
  w.end_offset = r.end_offset();
  w.damage = r.damage();
  w.problems = r.problems("f.test");
  return w;
}

TEST(Crc32c, KnownValues) {
  const std::string check = "123456789";
  const std::span<const std::uint8_t> digits(reinterpret_cast<const std::uint8_t*>(check.data()),
                                             check.size());
  EXPECT_EQ(crc32c(digits), 0xE3069283U);  // the CRC-32C check value
  EXPECT_EQ(crc32c({}), 0U);
  EXPECT_EQ(crc32c(std::vector<std::uint8_t>(32, 0)), 0x8A9136AAU);  // RFC 3720 B.4
  EXPECT_EQ(crc32c(std::vector<std::uint8_t>(32, 0xff)), 0x62A8AB43U);
  EXPECT_EQ(crc32c_portable(digits), 0xE3069283U);
  // In pieces as in one go, whatever the split (word-sized and not), with and without SSE 4.2.
  const auto p = payload(1000, 3);
  for (const std::size_t cut : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    EXPECT_EQ(crc32c(std::span(p).subspan(cut), crc32c(std::span(p).first(cut))), crc32c(p)) << cut;
    EXPECT_EQ(crc32c_portable(std::span(p).first(cut)), crc32c(std::span(p).first(cut))) << cut;
  }
}

TEST(FramedFile, EntriesRoundTrip) {
  const std::vector<std::vector<std::uint8_t>> payloads = {payload(1, 1), payload(0, 0),
                                                           payload(300, 2), payload(70'000, 3)};
  std::vector<std::size_t> offsets;
  const auto file = file_of(payloads, &offsets);
  ASSERT_EQ(file.size(), kFramedHeaderBytes + 4 * kFramedEntryHeaderBytes + 1 + 300 + 70'000);
  // The header, byte for byte.
  const std::vector<std::uint8_t> header(file.begin(), file.begin() + 12);
  EXPECT_EQ(header,
            (std::vector<std::uint8_t>{'B', 'G', 'P', 'S', 'T', 'E', 'S', 'T', 0, 3, 0, 0}));
  const auto w = walk(file);
  ASSERT_TRUE(w.ok) << w.error;
  EXPECT_EQ(w.payloads, payloads);
  EXPECT_EQ(w.offsets, std::vector<std::uint64_t>(offsets.begin(), offsets.end()));
  EXPECT_EQ(w.end, FramedEnd::Clean);
  EXPECT_EQ(w.end_offset, file.size());
  EXPECT_TRUE(w.damage.empty());
  EXPECT_TRUE(w.problems.empty());

  // An entry built in place is the same bytes as one put whole.
  codec::wire::Writer a;
  const auto at = begin_framed_entry(a);
  a.bytes(payloads[2]);
  end_framed_entry(a, at);
  codec::wire::Writer b;
  put_framed_entry(b, payloads[2]);
  EXPECT_TRUE(std::ranges::equal(a.bytes(), b.bytes()));
}

TEST(FramedFile, OlderVersionsInRangeAreRead) {
  codec::wire::Writer w;
  put_framed_header(w, FramedKind{"TEST", 2, 2});
  put_framed_entry(w, payload(5, 5));
  FramedReader r(w.bytes(), kTest);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.version(), 2);
  EXPECT_TRUE(r.next());
}

TEST(FramedFile, ACutAtAnyByteOfTheLastEntryEndsTheWalkCleanly) {
  const std::vector<std::vector<std::uint8_t>> payloads = {payload(40, 1), payload(25, 9),
                                                           payload(300, 4)};
  std::vector<std::size_t> offsets;
  const auto file = file_of(payloads, &offsets);
  const std::size_t last = offsets.back();
  for (std::size_t size = last; size < file.size(); ++size) {
    const auto w = walk(std::span(file).first(size));
    ASSERT_TRUE(w.ok) << size;
    // The whole entries before it, no damage.
    EXPECT_EQ(w.payloads.size(), 2U) << size;
    EXPECT_TRUE(w.damage.empty()) << size;
    EXPECT_EQ(w.end_offset, last) << size;
    const auto kept = std::span(file).subspan(last, size - last);
    if (kept.empty()) {
      EXPECT_EQ(w.end, FramedEnd::Clean);
    } else if (std::ranges::all_of(kept, [](std::uint8_t b) { return b == 0; })) {
      EXPECT_EQ(w.end, FramedEnd::Zeros) << size;  // the length's high octets: nothing else
    } else {
      EXPECT_EQ(w.end, FramedEnd::Torn) << size;
      ASSERT_EQ(w.problems.size(), 1U) << size;
      EXPECT_NE(
          w.problems[0].find("f.test: entry at offset " + std::to_string(last) + " is cut short"),
          std::string::npos)
          << w.problems[0];
    }
  }
  // And a cut inside the header: no entries, not an error.
  for (std::size_t size = 0; size < kFramedHeaderBytes; ++size) {
    const auto w = walk(std::span(file).first(size));
    ASSERT_TRUE(w.ok) << size << " " << w.error;
    EXPECT_TRUE(w.payloads.empty());
    EXPECT_EQ(w.end, size == 0 ? FramedEnd::Clean : FramedEnd::Torn);
  }
}

TEST(FramedFile, ZerosAfterTheLastEntryAreNothingWritten) {
  const std::vector<std::vector<std::uint8_t>> payloads = {payload(40, 1), payload(25, 9)};
  auto file = file_of(payloads);
  const std::size_t end = file.size();
  file.resize(end + 4096, 0);  // preallocated, or extended by a crash before the data came
  const auto w = walk(file);
  EXPECT_EQ(w.payloads, payloads);
  EXPECT_EQ(w.end, FramedEnd::Zeros);
  EXPECT_EQ(w.end_offset, end);
  EXPECT_TRUE(w.damage.empty());
}

TEST(FramedFile, AFlippedBitIsReportedAtItsEntryAndTheRestIsRead) {
  const std::vector<std::vector<std::uint8_t>> payloads = {payload(40, 1), payload(25, 9),
                                                           payload(300, 4), payload(8, 8)};
  std::vector<std::size_t> offsets;
  const auto file = file_of(payloads, &offsets);
  // Every bit of the second entry: its length, CRC and payload.
  for (std::size_t at = offsets[1]; at < offsets[2]; ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      auto damaged = file;
      damaged[at] ^= static_cast<std::uint8_t>(1U << bit);
      const auto w = walk(damaged);
      ASSERT_TRUE(w.ok);
      if (codec::wire::load_u32(damaged, offsets[1]) > file.size() - offsets[1] - 8) {
        // A length past the end of the file: that is a torn tail, and says where.
        EXPECT_EQ(w.payloads, std::vector<std::vector<std::uint8_t>>{payloads[0]});
        EXPECT_EQ(w.end, FramedEnd::Torn);
        EXPECT_EQ(w.end_offset, offsets[1]);
        continue;
      }
      ASSERT_FALSE(w.damage.empty()) << at << " " << bit;
      EXPECT_EQ(w.damage[0].offset, offsets[1]) << at << " " << bit;
      EXPECT_EQ(w.payloads.front(), payloads[0]);
      // Never a damaged payload taken for a good one.
      for (const auto& p : w.payloads) {
        EXPECT_TRUE(p == payloads[0] || p == payloads[2] || p == payloads[3]) << at << " " << bit;
      }
      EXPECT_EQ(
          w.problems[0].rfind("f.test: entry at offset " + std::to_string(offsets[1]) + " (", 0),
          0U)
          << w.problems[0];
      EXPECT_NE(w.problems[0].find(" is damaged (CRC-32C mismatch)"), std::string::npos);
      if (at >= offsets[1] + 4) {
        // The length was intact: the walk found the next entry and read the rest.
        EXPECT_EQ(w.payloads.size(), 3U) << at << " " << bit;
        EXPECT_EQ(w.end, FramedEnd::Clean);
      }
    }
  }
}

TEST(FramedFile, TwoDamagedEntriesInARowEndTheWalk) {
  const std::vector<std::vector<std::uint8_t>> payloads = {payload(40, 1), payload(25, 9),
                                                           payload(300, 4), payload(8, 8)};
  std::vector<std::size_t> offsets;
  auto file = file_of(payloads, &offsets);
  file[offsets[1] + 10] ^= 1;
  file[offsets[2] + 10] ^= 1;
  const auto w = walk(file);
  EXPECT_EQ(w.payloads.size(), 1U);
  ASSERT_EQ(w.damage.size(), 1U);
  EXPECT_EQ(w.damage[0].offset, offsets[1]);
  EXPECT_EQ(w.end, FramedEnd::Unreadable);
  EXPECT_EQ(w.end_offset, offsets[2]);
  EXPECT_EQ(w.problems.size(), 2U);
}

TEST(FramedFile, WrongMagicKindAndDamagedHeadersAreRefused) {
  const auto file = file_of({payload(10, 1)});
  auto other = file;
  other[0] = 'X';
  auto w = walk(other);
  EXPECT_FALSE(w.ok);
  EXPECT_EQ(w.error, "not a bgpscribe \"TEST\" file (bad magic)");
  EXPECT_TRUE(w.payloads.empty());

  // A version 1 collector spool segment: records with a length before each, no header.
  const std::vector<std::uint8_t> headerless = {0, 0, 0, 3, 1, 2, 3};
  EXPECT_FALSE(starts_framed(headerless));
  EXPECT_TRUE(starts_framed(file));
  EXPECT_EQ(walk(headerless).error, "not a bgpscribe \"TEST\" file (bad magic)");

  w = walk(file, FramedKind{"PGBT", 6, 6});
  EXPECT_FALSE(w.ok);
  EXPECT_EQ(w.error, "a bgpscribe \"TEST\" file, not a bgpscribe \"PGBT\" file");

  for (std::size_t at = 8; at < kFramedHeaderBytes; ++at) {
    auto damaged = file;
    damaged[at] ^= 0x10;
    w = walk(damaged);
    EXPECT_FALSE(w.ok) << at;
    EXPECT_EQ(w.error, "damaged header (CRC-32C mismatch)") << at;
  }
}

TEST(FramedFile, ANewerVersionIsRefusedWithAClearMessage) {
  codec::wire::Writer w;
  put_framed_header(w, FramedKind{"TEST", 4, 4});
  put_framed_entry(w, payload(10, 1));
  FramedReader r(w.bytes(), kTest);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "format version 4 of the bgpscribe \"TEST\" file was written by a newer bgpscribe: "
            "this one reads versions 2 to 3");
  EXPECT_FALSE(r.next());

  codec::wire::Writer old;
  put_framed_header(old, FramedKind{"TEST", 1, 1});
  FramedReader too_old(old.bytes(), kTest);
  EXPECT_FALSE(too_old.ok());
  EXPECT_NE(too_old.error().find("version 1"), std::string::npos) << too_old.error();
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/bgpscribe-framed-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(FramedFile, AWriterAppendsFlushesAndSyncs) {
  TempDir dir;
  const auto path = (dir.path / "a.test").string();
  std::string error;
  auto f = FramedFileWriter::create(path, kTest, error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(fs::file_size(path), kFramedHeaderBytes);  // the header is written at once
  std::vector<std::vector<std::uint8_t>> payloads;
  for (int i = 0; i < 500; ++i) {
    payloads.push_back(payload(static_cast<std::size_t>(i), static_cast<std::uint8_t>(i)));
    ASSERT_TRUE(f->append(payloads.back()));
  }
  EXPECT_EQ(f->entries(), 500U);
  EXPECT_TRUE(f->flush());
  EXPECT_EQ(fs::file_size(path), f->bytes());
  // What the kernel has reads whole, before the file is closed.
  auto w = walk(slurp(path));
  EXPECT_EQ(w.payloads, payloads);
  EXPECT_EQ(w.end, FramedEnd::Clean);
  payloads.push_back(payload(3, 3));
  ASSERT_TRUE(f->append(payloads.back()));
  EXPECT_TRUE(f->sync());
  EXPECT_TRUE(f->close());
  w = walk(slurp(path));
  EXPECT_EQ(w.payloads, payloads);
  EXPECT_EQ(w.end, FramedEnd::Clean);

  EXPECT_FALSE(FramedFileWriter::create((dir.path / "no" / "such").string(), kTest, error));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
}

TEST(FramedFile, AFailedWriteLeavesOnlyWholeEntries) {
  // A file size limit makes the kernel refuse a write halfway (EFBIG, SIGXFSZ ignored).
  TempDir dir;
  const auto path = (dir.path / "a.test").string();
  std::string error;
  auto f = FramedFileWriter::create(path, kTest, error);
  ASSERT_TRUE(f) << error;
  std::vector<std::vector<std::uint8_t>> written;
  for (int i = 0; i < 5; ++i) {
    written.push_back(payload(1000, static_cast<std::uint8_t>(i)));
    ASSERT_TRUE(f->append(written.back()));
  }
  ASSERT_TRUE(f->flush());
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* const old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 10'000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool failed = false;
  for (int i = 0; i < 40 && !failed; ++i) {
    failed = !f->append(payload(1000, 9));
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_TRUE(failed);
  // Cut back to the entries written whole before; later appends go on after them.
  auto w = walk(slurp(path));
  EXPECT_EQ(w.payloads, written);
  EXPECT_EQ(w.end, FramedEnd::Clean);
  written.push_back(payload(10, 1));
  ASSERT_TRUE(f->append(written.back()));
  ASSERT_TRUE(f->close());
  w = walk(slurp(path));
  EXPECT_EQ(w.payloads, written);
  EXPECT_EQ(w.end, FramedEnd::Clean);
}

}  // namespace
}  // namespace bgpscribe::exporters
