// MRT file streaming over the real data set and over files these tests write.
#include "codec/mrt/file.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "codec/mrt/body.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe::codec::mrt {
namespace {

namespace fs = std::filesystem;
using Buf = std::vector<std::uint8_t>;
using Counts = std::map<std::pair<std::uint16_t, std::uint16_t>, std::uint64_t>;

const fs::path kMrtData = fs::path(BGPSCRIBE_SHARED_DATA) / "mrt";
const char* const kTruncatedPyasn = "rib.20140523.0600_firstMB.bz2";

std::vector<fs::path> shared_mrt_files() {
  std::vector<fs::path> files;
  if (!fs::is_directory(kMrtData)) {
    return files;
  }
  for (const auto& e : fs::recursive_directory_iterator(kMrtData)) {
    if (e.is_regular_file()) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

#define REQUIRE_SHARED_DATA(files)                                               \
  if ((files).empty()) {                                                         \
    GTEST_SKIP() << "shared MRT data not found at " << kMrtData                  \
                 << " (see DESIGN.md, Real data); skipping the real-file tests"; \
  }

// The uncompressed bytes by the system's own tools, independent of our decoders.
Buf tool_decompress(const fs::path& p) {
  const std::string name = p.filename().string();
  std::string cmd;
  if (name.ends_with(".gz")) {
    cmd = "gzip -dc '" + p.string() + "' 2>/dev/null";
  } else if (name.ends_with(".bz2")) {
    // Python's bz2 module, not bzip2(1): the tool drops the last 5000-byte piece it decoded
    // when the stream is truncated. Loops over concatenated streams.
    cmd =
        "/usr/bin/python3 -c 'import bz2,sys\n"
        "d=open(sys.argv[1],\"rb\").read()\n"
        "while d[:3]==b\"BZh\":\n"
        " z=bz2.BZ2Decompressor()\n"
        " sys.stdout.buffer.write(z.decompress(d))\n"
        " d=z.unused_data if z.eof else b\"\"' '" +
        p.string() + "' 2>/dev/null";
  } else {
    cmd = "cat '" + p.string() + "'";
  }
  Buf out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) {
    return out;
  }
  std::uint8_t buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.insert(out.end(), buf, buf + n);
  }
  ::pclose(f);
  return out;
}

// A header walk that shares no code with the codec: counts per (type, subtype) and where the
// walk had to stop.
struct Walk {
  Counts counts;
  std::uint64_t records = 0;
  std::uint64_t end = 0;  // offset of the first byte not in a whole record
};
Walk header_walk(const Buf& b) {
  Walk w;
  std::size_t at = 0;
  while (b.size() - at >= 12) {
    const std::uint16_t type = static_cast<std::uint16_t>(b[at + 4] << 8 | b[at + 5]);
    const std::uint16_t sub = static_cast<std::uint16_t>(b[at + 6] << 8 | b[at + 7]);
    const std::uint64_t len = std::uint64_t{b[at + 8]} << 24 | std::uint64_t{b[at + 9]} << 16 |
                              std::uint64_t{b[at + 10]} << 8 | b[at + 11];
    if (b.size() - at - 12 < len) {
      break;
    }
    ++w.counts[{type, sub}];
    ++w.records;
    at += 12 + static_cast<std::size_t>(len);
  }
  w.end = at;
  return w;
}

std::uint64_t fnv(std::uint64_t h, Bytes b) {
  for (std::uint8_t c : b) {
    h = (h ^ c) * 0x100000001b3ULL;
  }
  return h;
}
constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ULL;

struct ReadAll {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t hash = kFnvBasis;
  Counts counts;
  bool failed = false;
  StreamError error;
};
ReadAll read_all(const std::string& path, const ReaderOptions& options = {}) {
  ReadAll r;
  FileReader reader;
  if (!reader.open(path, options)) {
    r.failed = true;
    return r;
  }
  FileRecord rec;
  while (reader.next(rec)) {
    EXPECT_EQ(rec.index, r.records);
    EXPECT_EQ(rec.offset, r.bytes);
    ++r.records;
    r.bytes += rec.record.bytes.size();
    r.hash = fnv(r.hash, rec.record.bytes);
    ++r.counts[{static_cast<std::uint16_t>(rec.record.header.type), rec.record.header.subtype}];
  }
  if (const StreamError* e = reader.error()) {
    r.failed = true;
    r.error = *e;
  }
  return r;
}

std::uint64_t chunk_hash(const std::string& path, const ReaderOptions& options,
                         std::uint64_t* total, const StreamError** error_out = nullptr,
                         bool* parallel = nullptr) {
  static StreamError last;
  ChunkReader r;
  EXPECT_TRUE(r.open(path, options));
  std::uint64_t h = kFnvBasis;
  *total = 0;
  Bytes chunk;
  while (r.next(chunk)) {
    h = fnv(h, chunk);
    *total += chunk.size();
  }
  // Still parallel at the end: no fallback to sequential libbz2 was needed.
  const bool was_parallel = r.parallel();
  if (parallel != nullptr) {
    *parallel = was_parallel;
  }
  if (error_out != nullptr) {
    if (const StreamError* e = r.error()) {
      last = *e;
      *error_out = &last;
    } else {
      *error_out = nullptr;
    }
  }
  return h;
}

void write_file(const fs::path& p, Bytes b, Compression c) {
  FileWriter w;
  ASSERT_TRUE(w.open(p.string(), {c}));
  // Odd-sized pieces exercise the writer's buffering.
  std::size_t at = 0;
  std::size_t piece = 1;
  while (at < b.size()) {
    const std::size_t n = std::min(piece, b.size() - at);
    ASSERT_TRUE(w.write(b.subspan(at, n)));
    at += n;
    piece = piece * 3 + 1;
    if (piece > (1U << 20)) {
      piece = 7;
    }
  }
  ASSERT_TRUE(w.close());
}

TEST(MrtFile, EveryRealRecordFramesParsesAndReencodes) {
  const auto files = shared_mrt_files();
  REQUIRE_SHARED_DATA(files);
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    const Buf raw = tool_decompress(path);
    const Walk walk = header_walk(raw);
    FileReader reader;
    ASSERT_TRUE(reader.open(path.string()));
    FileRecord rec;
    Counts counts;
    std::uint64_t n = 0;
    std::uint64_t parse_failures = 0;
    wire::Writer w;
    while (reader.next(rec)) {
      ++n;
      ++counts[{static_cast<std::uint16_t>(rec.record.header.type), rec.record.header.subtype}];
      auto body = parse_body(rec.record);
      if (!body) {
        ++parse_failures;
        ADD_FAILURE() << "record " << rec.index << " at " << rec.offset << ": "
                      << body.error().message << " at +" << body.error().offset;
        continue;
      }
      w.clear();
      ASSERT_TRUE(encode(*body, rec.record.header, w));
      EXPECT_TRUE(bytes_equal(w.bytes(), rec.record.bytes))
          << "record " << rec.index << " does not re-encode to its bytes";
    }
    EXPECT_EQ(parse_failures, 0U);
    EXPECT_EQ(n, walk.records);
    EXPECT_EQ(counts, walk.counts);
    if (path.filename() == kTruncatedPyasn) {
      const StreamError* e = reader.error();
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->kind, ErrorKind::Truncated);
      EXPECT_EQ(e->offset, walk.end);
      EXPECT_EQ(e->record_index, walk.records);
      EXPECT_FALSE(e->skippable);
      EXPECT_STREQ(e->detail, "bzip2 stream truncated");
      // The numbers PROVENANCE.md gives for this file.
      EXPECT_EQ(walk.records, 9073U);
      EXPECT_EQ(walk.end, 15273283U);
      EXPECT_FALSE(reader.next(rec));  // one error, reported once, then nothing
    } else {
      EXPECT_EQ(reader.error(), nullptr) << reader.error()->message;
      EXPECT_EQ(walk.end, raw.size());
    }
  }
}

// Damaged copies of real records (bytes flipped, lengths cut) must give errors, never
// over-reads: each copy sits in an exactly-sized heap buffer so the sanitizer build sees any.
TEST(MrtFile, DamagedRealRecordsFailCleanly) {
  const auto files = shared_mrt_files();
  REQUIRE_SHARED_DATA(files);
  std::uint32_t x = 99;
  auto rnd = [&x] {
    x = x * 1103515245U + 12345U;
    return x >> 8;
  };
  std::uint64_t tried = 0;
  for (const auto& path : files) {
    FileReader reader;
    ASSERT_TRUE(reader.open(path.string()));
    FileRecord rec;
    for (int n = 0; n < 200 && reader.next(rec); ++n) {
      for (int k = 0; k < 20; ++k) {
        Buf copy(rec.record.bytes.begin(), rec.record.bytes.end());
        const std::size_t body = copy.size() - kHeaderSize;
        if (body > 0) {
          for (int f = 0; f < 3; ++f) {
            copy[kHeaderSize + rnd() % body] = static_cast<std::uint8_t>(rnd());
          }
        }
        if (k % 2 == 1 && body > 0) {
          // Cut the body and make the header agree, so the damage reaches the body parsers.
          const std::size_t keep = rnd() % body;
          copy.resize(kHeaderSize + keep);
          const std::size_t len = keep;
          copy[8] = static_cast<std::uint8_t>(len >> 24);
          copy[9] = static_cast<std::uint8_t>(len >> 16);
          copy[10] = static_cast<std::uint8_t>(len >> 8);
          copy[11] = static_cast<std::uint8_t>(len);
        }
        auto heap = std::make_unique<std::uint8_t[]>(copy.size());
        std::copy(copy.begin(), copy.end(), heap.get());
        const Bytes exact(heap.get(), copy.size());
        auto parsed = parse_record(exact);
        if (!parsed) {
          continue;
        }
        auto b = parse_body(*parsed);
        ++tried;
        if (!b) {
          EXPECT_LT(b.error().offset, copy.size() + 1);
          continue;
        }
        if (const auto* rib = std::get_if<Rib>(&*b)) {
          std::size_t n_entries = 0;
          std::size_t attribute_bytes = 0;
          for (const RibEntry& e : *rib) {
            ++n_entries;
            attribute_bytes += e.attributes.size();
          }
          EXPECT_LE(attribute_bytes, rib->entries.size());
          EXPECT_EQ(n_entries, rib->entry_count);
          (void)rib->prefix();
        }
        wire::Writer w;
        (void)encode(*b, parsed->header, w);
      }
    }
  }
  EXPECT_GT(tried, 1000U);
}

TEST(MrtFile, PlainGzipAndBzip2GiveTheSameRecords) {
  const auto files = shared_mrt_files();
  REQUIRE_SHARED_DATA(files);
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    const Buf raw = tool_decompress(path);
    const Walk walk = header_walk(raw);
    const Bytes whole = Bytes(raw).first(static_cast<std::size_t>(walk.end));
    const ReadAll original = read_all(path.string());
    write_file(dir / "plain", whole, Compression::None);
    write_file(dir / "ours.gz", whole, Compression::Gzip);
    write_file(dir / "ours.bz2", whole, Compression::Bzip2);
    // Plain through small direct chunks (many records straddle chunks), the compressed ones
    // through the threaded and parallel paths.
    for (const auto& [name, threaded] :
         {std::pair{"plain", false}, std::pair{"ours.gz", true}, std::pair{"ours.bz2", true}}) {
      ReaderOptions o;
      o.threaded = threaded;
      o.chunk_size = threaded ? (1U << 20) : 4096;
      const ReadAll r = read_all((dir / name).string(), o);
      EXPECT_FALSE(r.failed) << name << ": " << r.error.message;
      EXPECT_EQ(r.records, original.records) << name;
      EXPECT_EQ(r.hash, original.hash) << name;
      EXPECT_EQ(r.counts, original.counts) << name;
    }
    FileReader check;
    ASSERT_TRUE(check.open((dir / "ours.gz").string()));
    EXPECT_EQ(check.compression(), Compression::Gzip);
    ASSERT_TRUE(check.open((dir / "ours.bz2").string()));
    EXPECT_EQ(check.compression(), Compression::Bzip2);
    ASSERT_TRUE(check.open((dir / "plain").string()));
    EXPECT_EQ(check.compression(), Compression::None);
  }
}

// gzip level 1 is ISA-L's igzip (file.cpp), level 2 zlib's. A real update file written record by
// record with a sync flush every 499 records, as the exporter flushes: one standard gzip member
// that gzip(1), bgpdump and our reader read back byte for byte, and, cut at any flush point (a
// crash's partial file), every record written before that flush and nothing else.
TEST(MrtFile, IgzipFilesWithFlushesReadBackByteForByte) {
  const fs::path input = kMrtData / "bgpdump/test_data/updates.20160811.1600.gz";
  if (!fs::is_regular_file(input)) {
    GTEST_SKIP() << "shared MRT data not found at " << input;
  }
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  const Buf raw = tool_decompress(input);
  const Walk walk = header_walk(raw);
  ASSERT_EQ(walk.end, raw.size());
  ASSERT_GT(walk.records, 17000U);
  const ReadAll original = read_all(input.string());
  const std::string bgpdump_original =
      tests::run_command("bgpdump -m " + tests::shell_quote(input.string()) + " 2>/dev/null").out;
  const bool bgpdump = tests::have_command("bgpdump");

  struct FlushPoint {
    std::uintmax_t file_size = 0;
    std::size_t bytes = 0;
    std::uint64_t records = 0;
  };
  for (const int level : {1, 2}) {
    SCOPED_TRACE("gzip level " + std::to_string(level));
    const fs::path out = dir / ("igzip" + std::to_string(level) + ".gz");
    std::vector<FlushPoint> flushes;
    {
      FileWriter w;
      WriterOptions o;
      o.compression = Compression::Gzip;
      o.level = level;
      o.buffer_size = std::size_t{64} << 10;  // several buffers between flushes
      ASSERT_TRUE(w.open(out.string(), o));
      std::size_t at = 0;
      std::uint64_t records = 0;
      while (at < raw.size()) {
        const std::size_t len =
            12 + (std::size_t{raw[at + 8]} << 24 | std::size_t{raw[at + 9]} << 16 |
                  std::size_t{raw[at + 10]} << 8 | raw[at + 11]);
        ASSERT_TRUE(w.write(Bytes(raw).subspan(at, len)));
        at += len;
        if (++records % 499 == 0) {
          ASSERT_TRUE(w.flush());
          flushes.push_back({fs::file_size(out), at, records});
        }
      }
      ASSERT_TRUE(w.close());
    }
    ASSERT_GT(flushes.size(), 30U);
    // Smaller than the input by far: real compression, not stored blocks.
    EXPECT_LT(fs::file_size(out) * 4, raw.size());

    const std::string q = tests::shell_quote(out.string());
    EXPECT_EQ(tests::run_command("gzip -t " + q).status, 0);
    const tests::CommandResult zcat = tests::run_command("gzip -dc " + q);
    EXPECT_EQ(zcat.status, 0);
    EXPECT_TRUE(
        zcat.out.size() == raw.size() &&
        std::equal(raw.begin(), raw.end(), zcat.out.begin(),
                   [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }))
        << "gzip -dc gives " << zcat.out.size() << " bytes, not the " << raw.size() << " written";
    const ReadAll ours = read_all(out.string());
    EXPECT_FALSE(ours.failed) << ours.error.message;
    EXPECT_EQ(ours.records, original.records);
    EXPECT_EQ(ours.hash, original.hash);
    if (bgpdump) {
      const std::string b = tests::run_command("bgpdump -m " + q + " 2>/dev/null").out;
      EXPECT_EQ(b.size(), bgpdump_original.size());
      EXPECT_TRUE(b == bgpdump_original) << "bgpdump -m differs from the original's";
    }

    // The file cut at the first, a middle and the last flush point.
    for (const FlushPoint& f : {flushes.front(), flushes[flushes.size() / 2], flushes.back()}) {
      SCOPED_TRACE("cut after record " + std::to_string(f.records));
      const fs::path cut = dir / "cut.gz";
      fs::copy_file(out, cut, fs::copy_options::overwrite_existing);
      fs::resize_file(cut, f.file_size);
      // gzip -dc says "unexpected end of file" (status 1) but writes everything before it.
      const tests::CommandResult part =
          tests::run_command("gzip -dc " + tests::shell_quote(cut.string()) + " 2>/dev/null");
      EXPECT_TRUE(
          part.out.size() == f.bytes &&
          std::equal(part.out.begin(), part.out.end(), raw.begin(),
                     [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }))
          << "gzip -dc of the cut file gives " << part.out.size() << " bytes, not " << f.bytes;
      const ReadAll r = read_all(cut.string());
      EXPECT_EQ(r.records, f.records);
      EXPECT_EQ(r.bytes, f.bytes);
      EXPECT_TRUE(r.failed);  // the stream has no end: truncated, after the whole records
    }
  }
}

TEST(MrtFile, ParallelBzip2MatchesSequentialLibbz2) {
  const auto files = shared_mrt_files();
  REQUIRE_SHARED_DATA(files);
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  std::vector<fs::path> bz2;
  for (const auto& p : files) {
    if (p.extension() == ".bz2") {
      bz2.push_back(p);
    }
  }
  // A bigger file made by bzip2(1) (many 900k blocks), and a two-stream file made by cat.
  std::string big_src;
  for (const auto& p : files) {
    if (p.filename() == "updates.20190101.0000.gz" ||
        p.filename() == "rrc01.updates.20100827.0840.gz") {
      big_src += " '" + p.string() + "'";
    }
  }
  if (!big_src.empty() &&
      std::system(
          ("gzip -dc" + big_src + " | bzip2 -9 > '" + (dir / "big.bz2").string() + "'").c_str()) ==
          0) {
    bz2.push_back(dir / "big.bz2");
    if (std::system(("cat '" + (dir / "big.bz2").string() + "' '" + (dir / "big.bz2").string() +
                     "' > '" + (dir / "twice.bz2").string() + "'")
                        .c_str()) == 0) {
      bz2.push_back(dir / "twice.bz2");
    }
  }
  ASSERT_FALSE(bz2.empty());
  for (const auto& p : bz2) {
    SCOPED_TRACE(p.string());
    ReaderOptions seq;
    seq.parallel_bzip2 = false;
    ReaderOptions par;
    par.parallel_bzip2 = true;
    std::uint64_t seq_total = 0;
    std::uint64_t par_total = 0;
    const StreamError* seq_error = nullptr;
    const std::uint64_t seq_hash = chunk_hash(p.string(), seq, &seq_total, &seq_error);
    const bool seq_failed = seq_error != nullptr;
    const std::uint64_t seq_offset = seq_failed ? seq_error->offset : 0;
    const char* seq_message = seq_failed ? seq_error->message : "";
    const StreamError* par_error = nullptr;
    bool parallel = false;
    const std::uint64_t par_hash = chunk_hash(p.string(), par, &par_total, &par_error, &parallel);
    EXPECT_TRUE(parallel);
    EXPECT_EQ(par_total, seq_total);
    EXPECT_EQ(par_hash, seq_hash);
    EXPECT_EQ(par_error != nullptr, seq_failed);
    if (par_error != nullptr && seq_failed) {
      EXPECT_EQ(par_error->offset, seq_offset);
      EXPECT_STREQ(par_error->message, seq_message);
    }
    // And the tool agrees on the bytes.
    const Buf raw = tool_decompress(p);
    EXPECT_EQ(raw.size(), seq_total);
    EXPECT_EQ(fnv(kFnvBasis, raw), seq_hash);
  }
}

TEST(MrtFile, CorruptBzip2BlockFallsBackAndReportsLikeLibbz2) {
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  // Three blocks of pseudo-random MRT-ish bytes at level 1 (100k blocks).
  Buf data(350000);
  std::uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245U + 12345U;
    b = static_cast<std::uint8_t>((x >> 16) % 7);
  }
  {
    FileWriter w;
    WriterOptions o;
    o.compression = Compression::Bzip2;
    o.level = 1;
    ASSERT_TRUE(w.open((dir / "ok.bz2").string(), o));
    ASSERT_TRUE(w.write(data));
    ASSERT_TRUE(w.close());
  }
  Buf file = tool_decompress(dir / "ok.bz2");
  ASSERT_EQ(file, data);
  // Damage a byte in the middle of the compressed file.
  {
    FILE* f = std::fopen((dir / "ok.bz2").c_str(), "rb");
    Buf comp;
    std::uint8_t buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
      comp.insert(comp.end(), buf, buf + n);
    }
    std::fclose(f);
    comp[comp.size() / 2] ^= 0x55;
    FILE* g = std::fopen((dir / "bad.bz2").c_str(), "wb");
    std::fwrite(comp.data(), 1, comp.size(), g);
    std::fclose(g);
  }
  ReaderOptions seq;
  seq.parallel_bzip2 = false;
  std::uint64_t seq_total = 0;
  std::uint64_t par_total = 0;
  const StreamError* e = nullptr;
  const std::uint64_t seq_hash = chunk_hash((dir / "bad.bz2").string(), seq, &seq_total, &e);
  ASSERT_NE(e, nullptr);
  const std::uint64_t seq_offset = e->offset;
  const std::uint64_t par_hash = chunk_hash((dir / "bad.bz2").string(), {}, &par_total, &e);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->offset, seq_offset);
  EXPECT_STREQ(e->message, "bzip2 data corrupt");
  EXPECT_EQ(par_total, seq_total);
  EXPECT_EQ(par_hash, seq_hash);
}

TEST(MrtFile, TruncatedBzip2MatchesLibbz2AtEveryKindOfCut) {
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  Buf data(250000);
  std::uint32_t x = 777;
  for (auto& b : data) {
    x = x * 1103515245U + 12345U;
    b = static_cast<std::uint8_t>((x >> 16) % 5);
  }
  {
    FileWriter w;
    WriterOptions o;
    o.compression = Compression::Bzip2;
    o.level = 1;
    ASSERT_TRUE(w.open((dir / "whole.bz2").string(), o));
    ASSERT_TRUE(w.write(data));
    ASSERT_TRUE(w.close());
  }
  const auto size = static_cast<std::size_t>(fs::file_size(dir / "whole.bz2"));
  // Mid-file (inside a block), inside the end-of-stream magic, inside the stream CRC, and
  // right after the last block's bits.
  for (std::size_t cut : {size / 2, size - 9, size - 7, size - 2, size - 1}) {
    SCOPED_TRACE(cut);
    fs::copy_file(dir / "whole.bz2", dir / "cut.bz2", fs::copy_options::overwrite_existing);
    fs::resize_file(dir / "cut.bz2", cut);
    ReaderOptions seq;
    seq.parallel_bzip2 = false;
    std::uint64_t seq_total = 0;
    std::uint64_t par_total = 0;
    const StreamError* e = nullptr;
    const std::uint64_t seq_hash = chunk_hash((dir / "cut.bz2").string(), seq, &seq_total, &e);
    ASSERT_NE(e, nullptr);
    const std::uint64_t seq_offset = e->offset;
    const std::string seq_message = e->message;
    const std::uint64_t par_hash = chunk_hash((dir / "cut.bz2").string(), {}, &par_total, &e);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->offset, seq_offset);
    EXPECT_EQ(e->message, seq_message);
    EXPECT_EQ(par_total, seq_total);
    EXPECT_EQ(par_hash, seq_hash);
  }
}

TEST(MrtFile, OversizedRecordIsReportedAndCanBeSkipped) {
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  wire::Writer w;
  const Buf small = {1, 2, 3};
  ASSERT_TRUE(encode_raw(Type::Ospfv2, 0, {}, small, w));
  const std::size_t big_at = w.size();
  // A record of 16 MiB + 1 body octets, written by hand: the encoder refuses it too.
  w.u32(0);
  w.u16(11);
  w.u16(0);
  w.u32(kMaxRecordLength + 1);
  w.fill(kMaxRecordLength + 1, 0xab);
  ASSERT_TRUE(encode_raw(Type::Ospfv2, 1, {}, small, w));
  for (Compression c : {Compression::None, Compression::Gzip}) {
    write_file(dir / "big", w.bytes(), c);
    FileReader r;
    ASSERT_TRUE(r.open((dir / "big").string()));
    FileRecord rec;
    ASSERT_TRUE(r.next(rec));
    EXPECT_EQ(rec.index, 0U);
    ASSERT_FALSE(r.next(rec));
    const StreamError* e = r.error();
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ErrorKind::TooLarge);
    EXPECT_STREQ(e->message, "MRT record length exceeds the 16 MiB limit");
    EXPECT_EQ(e->offset, big_at);
    EXPECT_EQ(e->record_index, 1U);
    EXPECT_TRUE(e->skippable);
    ASSERT_TRUE(r.skip());
    ASSERT_TRUE(r.next(rec));
    EXPECT_EQ(rec.index, 2U);
    EXPECT_EQ(rec.offset, big_at + 12 + kMaxRecordLength + 1);
    EXPECT_EQ(rec.record.header.subtype, 1);
    EXPECT_FALSE(r.next(rec));
    EXPECT_EQ(r.error(), nullptr);
  }
}

// A bzip2 block damaged from the start decompresses into bytes that are not MRT before its CRC
// fails at the block's end: the reader reads on through the length those bytes claim and
// reports the decompressor's failure, not a framing one (tests/data/mrt/README.md).
TEST(MrtFile, CorruptFirstBlockIsADecompressionErrorNotAFramingOne) {
  const std::string path = std::string(BGPSCRIBE_TEST_DATA) + "/mrt/corrupt-first-block.mrt.bz2";
  for (const bool parallel : {true, false}) {
    ReaderOptions o;
    o.parallel_bzip2 = parallel;
    FileReader r;
    ASSERT_TRUE(r.open(path, o));
    FileRecord rec;
    EXPECT_FALSE(r.next(rec));
    const StreamError* e = r.error();
    ASSERT_NE(e, nullptr);
    EXPECT_STREQ(e->message, "bzip2 data corrupt");
    EXPECT_EQ(e->offset, 0U);
    EXPECT_EQ(e->record_index, 0U);
    EXPECT_FALSE(e->skippable);
  }
}

TEST(MrtFile, TruncatedLastRecordIsAnErrorAfterTheWholeOnes) {
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  wire::Writer w;
  const Buf body(100, 7);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(encode_raw(Type::Ospfv2, 0, {}, body, w));
  }
  const Bytes cut = w.bytes().first(w.size() - 10);
  for (Compression c : {Compression::None, Compression::Gzip, Compression::Bzip2}) {
    write_file(dir / "cut", cut, c);
    const ReadAll r = read_all((dir / "cut").string());
    EXPECT_EQ(r.records, 2U);
    ASSERT_TRUE(r.failed);
    EXPECT_EQ(r.error.kind, ErrorKind::Truncated);
    EXPECT_EQ(r.error.offset, 2 * 112U);
    EXPECT_STREQ(r.error.message, "MRT record truncated at end of file");
  }
}

TEST(MrtFile, ConcatenatedGzipMembersAreOneStream) {
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  wire::Writer a;
  wire::Writer b;
  const Buf body(50, 1);
  ASSERT_TRUE(encode_raw(Type::Ospfv2, 0, {}, body, a));
  ASSERT_TRUE(encode_raw(Type::Ospfv2, 1, {}, body, b));
  write_file(dir / "a.gz", a.bytes(), Compression::Gzip);
  write_file(dir / "b.gz", b.bytes(), Compression::Gzip);
  ASSERT_EQ(std::system(("cat '" + (dir / "a.gz").string() + "' '" + (dir / "b.gz").string() +
                         "' > '" + (dir / "ab.gz").string() + "'")
                            .c_str()),
            0);
  const ReadAll r = read_all((dir / "ab.gz").string());
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.records, 2U);
}

// "-" reads stdin: a child process gets the file as its stdin and counts the records.
TEST(MrtFile, ReadsStandardInput) {
  const tests::TempDir tmp("bgpscribe-mrt-test");
  const fs::path& dir = tmp.path();
  wire::Writer w;
  const Buf body(300, 3);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(encode_raw(Type::Ospfv2, 0, {}, body, w));
  }
  for (Compression c : {Compression::None, Compression::Gzip, Compression::Bzip2}) {
    write_file(dir / "stdin.mrt", w.bytes(), c);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int fd = ::open((dir / "stdin.mrt").c_str(), O_RDONLY);
      if (fd < 0 || ::dup2(fd, STDIN_FILENO) < 0) {
        ::_exit(2);
      }
      int code = 0;
      {
        // Scoped: the reader's producer thread ends before the child exits.
        FileReader r;
        FileRecord rec;
        int n = 0;
        if (!r.open("-")) {
          code = 3;
        }
        while (code == 0 && r.next(rec)) {
          ++n;
        }
        if (code == 0 && (n != 1000 || r.error() != nullptr || r.compression() != c)) {
          code = 4;
        }
      }
      ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << to_string(c);
  }
}

TEST(MrtFile, WriterReportsErrors) {
  FileWriter w;
  ASSERT_FALSE(w.open("/nonexistent-dir/x.mrt"));
  EXPECT_NE(w.system_error(), 0);
  if (fs::exists("/dev/full")) {
    for (Compression c : {Compression::None, Compression::Gzip, Compression::Bzip2}) {
      FileWriter full;
      ASSERT_TRUE(full.open("/dev/full", {c}));
      const Buf bytes(1000, 9);
      ASSERT_TRUE(full.write(bytes));  // buffered
      EXPECT_FALSE(full.close());      // the bytes meet the full device here
      EXPECT_EQ(full.system_error(), ENOSPC);
    }
  }
  FileReader r;
  EXPECT_FALSE(r.open("/nonexistent-dir/x.mrt"));
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->system_error, ENOENT);
}

TEST(MrtFile, DetectsCompressionByMagicNotName) {
  const Buf gz = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0};
  const Buf bz = {'B', 'Z', 'h', '9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
  // An MRT record from April 2005 starts with "BZh1"; its type is not a bzip2 magic.
  const Buf mrt = {'B', 'Z', 'h', '1', 0x00, 0x10, 0x00, 0x04, 0x00, 0x00};
  EXPECT_EQ(detect_compression(gz), Compression::Gzip);
  EXPECT_EQ(detect_compression(bz), Compression::Bzip2);
  EXPECT_EQ(detect_compression(mrt), Compression::None);
  EXPECT_EQ(detect_compression({}), Compression::None);
}

}  // namespace
}  // namespace bgpscribe::codec::mrt
