// The spool's segment files (collector/core/spool.hpp): framed files of kind "SPOL" version 2,
// segments of version 1 (before the framing) still read at a start after an upgrade, damage and
// torn tails reported by file and offset, a segment of a newer bgpscribe left alone.
#include "collector/core/spool.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace bgpscribe::collector {
namespace {

namespace fs = std::filesystem;
using exporters::Record;
using exporters::RecordType;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/bgpscribe-spool-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

Record message(std::int64_t n) {
  Record r;
  r.type = RecordType::Message;
  r.time_us = n;
  auto p = std::make_shared<exporters::PeerInfo>();
  p->id = 3;
  p->name = "r1";
  p->peer_address = *codec::bgp::IpAddress::parse("192.0.2.3");
  p->peer_as = 64500;
  r.peer = p;
  r.message = exporters::SharedBytes(std::vector<std::uint8_t>(19 + n % 40, 0xff));
  r.seq = static_cast<std::uint64_t>(n);
  return r;
}

// A segment as bgpscribe wrote it before the framing (version 1), byte for byte: for each
// record a u32 length, big-endian, and its encoding; no header, no CRC.
std::vector<std::uint8_t> version_1_segment(const std::vector<Record>& records) {
  codec::wire::Writer w;
  for (const auto& r : records) {
    const auto at = w.placeholder_u32();
    Spool::encode_body(r, 0, w);
    w.patch_u32(at, static_cast<std::uint32_t>(w.since(at) - 4));
  }
  return w.take();
}

void write_file(const fs::path& p, std::span<const std::uint8_t> bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),  // NOLINT
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::int64_t> times(const std::vector<Record>& records) {
  std::vector<std::int64_t> t;
  for (const auto& r : records) {
    t.push_back(r.time_us);
  }
  return t;
}

// Writes `n` records from time `from` into a spool of its own in `dir` and returns the one
// segment's path.
std::string framed_segment(const fs::path& dir, std::int64_t from, int n) {
  {
    Spool s(dir.string(), 1 << 30);
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(s.append(message(from + i)));
    }
  }
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    found.push_back(e.path().string());
  }
  EXPECT_EQ(found.size(), 1U);
  return found.empty() ? std::string() : found.front();
}

Spool::SegmentReport read(std::span<const std::uint8_t> bytes, std::vector<std::int64_t>& out) {
  return Spool::read_records(bytes, "seg",
                             [&](Record&& r, std::uint64_t) { out.push_back(r.time_us); });
}

TEST(SpoolSegments, NewSegmentsAreFramedFilesOfOneRecordPerEntry) {
  TempDir dir;
  const auto path = framed_segment(dir.path, 0, 3);
  const auto bytes = slurp(path);
  const std::vector<std::uint8_t> header(bytes.begin(), bytes.begin() + 12);
  EXPECT_EQ(header,
            (std::vector<std::uint8_t>{'B', 'G', 'P', 'S', 'S', 'P', 'O', 'L', 0, 2, 0, 0}));
  exporters::FramedReader reader(bytes, Spool::kSegmentKind);
  ASSERT_TRUE(reader.ok()) << reader.error();
  std::int64_t n = 0;
  while (auto e = reader.next()) {
    std::uint64_t snapshot = 0;
    const auto r = Spool::decode(e->payload, snapshot);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->time_us, n++);
  }
  EXPECT_EQ(n, 3);
  EXPECT_EQ(reader.end(), exporters::FramedEnd::Clean);
}

TEST(SpoolSegments, AVersionOneSegmentLeftByAnOlderBgpscribeIsDeliveredFirst) {
  TempDir dir;
  std::vector<Record> old;
  for (int i = 0; i < 20; ++i) {
    old.push_back(message(i));
  }
  write_file(dir.path / "0000000000000007.spool", version_1_segment(old));
  Spool s(dir.path.string(), 1 << 30);
  EXPECT_FALSE(s.empty());
  // New records after the upgrade go into a framed segment numbered after the old one.
  for (int i = 20; i < 25; ++i) {
    ASSERT_TRUE(s.append(message(i)));
  }
  std::vector<Record> out;
  while (auto seg = s.take_segment()) {
    EXPECT_EQ(s.read_segment(*seg, out), 0U) << *seg;
  }
  std::vector<std::int64_t> expected;
  for (int i = 0; i < 25; ++i) {
    expected.push_back(i);
  }
  EXPECT_EQ(times(out), expected);
  ASSERT_EQ(out.size(), 25U);
  EXPECT_EQ(out[3].seq, 3U);
  EXPECT_EQ(out[3].peer->peer_as, 64500U);
  EXPECT_TRUE(fs::is_empty(dir.path));  // read segments are deleted
}

TEST(SpoolSegments, AVersionOneSegmentCutShortGivesItsWholeRecords) {
  std::vector<Record> old;
  for (int i = 0; i < 4; ++i) {
    old.push_back(message(i));
  }
  auto bytes = version_1_segment(old);
  bytes.resize(bytes.size() - 5);
  std::vector<std::int64_t> got;
  const auto report = read(bytes, got);
  EXPECT_EQ(report.version, 1);
  EXPECT_EQ(got, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(report.bad, 1U);
  ASSERT_EQ(report.problems.size(), 1U);
  EXPECT_NE(report.problems[0].find("seg: record at offset "), std::string::npos);
}

TEST(SpoolSegments, ADamagedEntryIsReportedWithItsOffsetAndTheOthersAreDelivered) {
  TempDir dir;
  const auto path = framed_segment(dir.path, 0, 5);
  auto bytes = slurp(path);
  // The third entry's offset, from the framing.
  std::vector<std::uint64_t> offsets;
  {
    exporters::FramedReader reader(bytes, Spool::kSegmentKind);
    while (auto e = reader.next()) {
      offsets.push_back(e->offset);
    }
  }
  ASSERT_EQ(offsets.size(), 5U);
  bytes[offsets[2] + 20] ^= 0x08;
  write_file(path, bytes);

  std::vector<std::int64_t> got;
  const auto report = read(bytes, got);
  EXPECT_EQ(got, (std::vector<std::int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(report.bad, 1U);
  ASSERT_EQ(report.problems.size(), 1U);
  EXPECT_NE(report.problems[0].find("seg: entry at offset " + std::to_string(offsets[2])),
            std::string::npos)
      << report.problems[0];

  // Through the spool: the same, and the file is gone.
  Spool s(dir.path.string(), 1 << 30);
  std::vector<Record> out;
  const auto seg = s.take_segment();
  ASSERT_TRUE(seg);
  EXPECT_EQ(s.read_segment(*seg, out), 1U);
  EXPECT_EQ(times(out), (std::vector<std::int64_t>{0, 1, 3, 4}));
  EXPECT_FALSE(fs::exists(path));
}

TEST(SpoolSegments, ATornTailEndsTheSegmentAtItsLastWholeRecord) {
  TempDir dir;
  const auto path = framed_segment(dir.path, 0, 3);
  const auto bytes = slurp(path);
  std::vector<std::uint64_t> offsets;
  {
    exporters::FramedReader reader(bytes, Spool::kSegmentKind);
    while (auto e = reader.next()) {
      offsets.push_back(e->offset);
    }
  }
  for (std::size_t size = offsets[2] + 1; size < bytes.size(); ++size) {
    std::vector<std::int64_t> got;
    const auto report = read(std::span(bytes).first(size), got);
    EXPECT_EQ(got, (std::vector<std::int64_t>{0, 1})) << size;
    EXPECT_EQ(report.bad, 1U) << size;  // one torn tail
    EXPECT_FALSE(report.refused);
  }
  // Zeros where the last entry should be (a size extended before a crash): the same.
  auto zeroed = bytes;
  std::fill(zeroed.begin() + static_cast<std::ptrdiff_t>(offsets[2]), zeroed.end(), 0);
  std::vector<std::int64_t> got;
  const auto report = read(zeroed, got);
  EXPECT_EQ(got, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(report.bad, 1U);
}

TEST(SpoolSegments, ASegmentOfANewerBgpscribeIsLeftInPlace) {
  TempDir dir;
  codec::wire::Writer w;
  exporters::put_framed_header(w, exporters::FramedKind{"SPOL", 3, 3});
  exporters::put_framed_entry(w, std::vector<std::uint8_t>{1, 2, 3});
  const auto path = dir.path / "0000000000000000.spool";
  write_file(path, w.bytes());
  Spool s(dir.path.string(), 1 << 30);
  const auto seg = s.take_segment();
  ASSERT_TRUE(seg);
  std::vector<Record> out;
  EXPECT_EQ(s.read_segment(*seg, out), 1U);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(fs::exists(path));
  std::vector<std::int64_t> got;
  const auto report = read(w.bytes(), got);
  EXPECT_TRUE(report.refused);
  ASSERT_EQ(report.problems.size(), 1U);
  EXPECT_EQ(report.problems[0],
            "seg: format version 3 of the bgpscribe \"SPOL\" file was written by a newer "
            "bgpscribe: this one reads version 2");
}

TEST(SpoolRecords, APeerOfABmpRouterKeepsItsSourceFields) {
  Record r = message(7);
  auto p = std::make_shared<exporters::PeerInfo>(*r.peer);
  p->router = "edge1";
  p->router_address = *codec::bgp::IpAddress::parse("2001:db8::1");
  p->bmp_peer_type = 1;
  p->distinguisher = 0x0001'0002'0003'0004;
  p->post_policy = true;
  r.peer = p;
  codec::wire::Writer w;
  Spool::encode_body(r, 0, w);
  const auto bytes = w.take();
  std::uint64_t snapshot = 0;
  const auto back = Spool::decode(bytes, snapshot);
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->peer);
  EXPECT_EQ(*back->peer, *p);

  // A direct session's peer is written as before (no BMP fields): older readers take it.
  Record direct = message(8);
  codec::wire::Writer w2;
  Spool::encode_body(direct, 0, w2);
  const auto direct_bytes = w2.take();
  const auto direct_back = Spool::decode(direct_bytes, snapshot);
  ASSERT_TRUE(direct_back);
  EXPECT_FALSE(direct_back->peer->from_bmp());
  EXPECT_EQ(*direct_back->peer, *direct.peer);
  EXPECT_LT(direct_bytes.size(), bytes.size());
}

}  // namespace
}  // namespace bgpscribe::collector
