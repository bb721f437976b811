// The write-ahead journal: records are numbered and read back after a position, across
// instances and across a process killed with SIGKILL; an entry cut short is not there;
// segments go once every record in them is released.
#include "collector/core/journal.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <vector>

namespace bgpscribe::collector {
namespace {

using exporters::Record;
using exporters::RecordType;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/bgpscribe-journal-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

Record message(std::int64_t t) {
  Record r;
  r.type = RecordType::Message;
  r.time_us = t;
  auto p = std::make_shared<exporters::PeerInfo>();
  p->id = 7;
  p->name = "r7";
  p->peer_address = *codec::bgp::IpAddress::parse("192.0.2.7");
  p->peer_as = 64507;
  r.peer = p;
  r.message = exporters::SharedBytes(std::vector<std::uint8_t>(19 + t % 40, 0xFF));
  return r;
}

JournalOptions options(const TempDir& dir, std::uint64_t segment = 1 << 20) {
  JournalOptions o;
  o.directory = (dir.path / "journal").string();
  o.segment_bytes = segment;
  // The disk thread makes the next segment while the test appends; a busy machine (sanitizers)
  // must not turn that race into records not journaled.
  o.spare_wait = std::chrono::seconds(10);
  return o;
}

std::vector<std::pair<std::uint64_t, std::int64_t>> read_all(const JournalOptions& o,
                                                             std::uint64_t after) {
  Journal j(o);
  std::vector<std::pair<std::uint64_t, std::int64_t>> out;
  EXPECT_EQ(j.replay(after,
                     [&](std::uint64_t seq, Record&& r) {
                       EXPECT_EQ(r.seq, seq);
                       EXPECT_EQ(r.peer->name, "r7");
                       out.emplace_back(seq, r.time_us);
                     }),
            0U);
  return out;
}

TEST(Journal, NumbersRecordsAndReadsThemBackAfterAPositionInALaterRun) {
  TempDir dir;
  {
    Journal j(options(dir));
    EXPECT_EQ(j.last_seq(), 0U);
    for (int i = 1; i <= 100; ++i) {
      Record r = message(i);
      EXPECT_EQ(j.append(r), static_cast<std::uint64_t>(i));
      EXPECT_EQ(r.seq, static_cast<std::uint64_t>(i));
    }
    Record snapshot;
    snapshot.type = RecordType::RibSnapshot;
    EXPECT_EQ(j.append(snapshot), 100U);  // not journaled: the number of the record before
  }
  const auto all = read_all(options(dir), 0);
  ASSERT_EQ(all.size(), 100U);
  EXPECT_EQ(all.front(), (std::pair<std::uint64_t, std::int64_t>{1, 1}));
  EXPECT_EQ(all.back(), (std::pair<std::uint64_t, std::int64_t>{100, 100}));
  EXPECT_EQ(read_all(options(dir), 90).size(), 10U);
  // A later run goes on with the numbers.
  Journal j(options(dir));
  EXPECT_EQ(j.last_seq(), 100U);
  Record r = message(101);
  EXPECT_EQ(j.append(r), 101U);
}

TEST(Journal, RecordsSurviveAProcessKilledWithSigkill) {
  TempDir dir;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Journal j(options(dir));
    for (int i = 1; i <= 5000; ++i) {
      Record r = message(i);
      j.append(r);
    }
    ::raise(SIGKILL);  // nothing closed, unmapped or synced
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  const auto all = read_all(options(dir), 0);
  ASSERT_EQ(all.size(), 5000U);  // 1 MiB segments: several of them
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].first, i + 1);
  }
}

TEST(Journal, AnEntryWhoseLengthWasNotWrittenIsNotThere) {
  TempDir dir;
  std::string path;
  {
    Journal j(options(dir));
    for (int i = 1; i <= 3; ++i) {
      Record r = message(i);
      j.append(r);
    }
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.path / "journal")) {
    path = e.path().string();
  }
  // The third entry's length word zeroed: the process ended between its body and its length.
  std::vector<char> bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::size_t at = 8;
  for (int i = 0; i < 2; ++i) {
    const auto n = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at])) << 24) |
                   (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at + 1])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at + 2])) << 8) |
                   static_cast<std::uint8_t>(bytes[at + 3]);
    at += 4 + n;
  }
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(at),
            bytes.begin() + static_cast<std::ptrdiff_t>(at) + 4, 0);
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const auto all = read_all(options(dir), 0);
  ASSERT_EQ(all.size(), 2U);
  Journal j(options(dir));
  EXPECT_EQ(j.last_seq(), 2U);
}

TEST(Journal, AFullJournalCountsWhatItCouldNotTakeAndStillNumbersIt) {
  TempDir dir;
  JournalOptions o = options(dir, 64 * 1024);
  o.max_bytes = 32 * 1024;  // not even one segment fits
  Journal j(o);
  Record r = message(1);
  EXPECT_EQ(j.append(r), 1U);
  Record r2 = message(2);
  EXPECT_EQ(j.append(r2), 2U);  // numbered all the same: positions stay in step
  EXPECT_EQ(j.stats().not_journaled, 2U);
  EXPECT_EQ(j.stats().appended, 0U);
}

TEST(Journal, ReleaseDeletesSegmentsEveryExporterHasDurably) {
  TempDir dir;
  Journal j(options(dir, 64 * 1024));
  for (int i = 1; i <= 3000; ++i) {
    Record r = message(i);
    j.append(r);
  }
  const auto segments = j.stats().segments;
  ASSERT_GT(segments, 3U);
  j.release(1000);
  EXPECT_LT(j.stats().segments, segments);
  EXPECT_GT(j.stats().released, 0U);
  // What is left still holds every record after 1000.
  std::uint64_t first = 0;
  std::size_t n = 0;
  j.release(0);
  (void)j.replay(1000, [&](std::uint64_t seq, Record&&) {
    first = first == 0 ? seq : first;
    ++n;
  });
  EXPECT_EQ(first, 1001U);
  EXPECT_EQ(n, 2000U);
  j.release(3000);
  EXPECT_EQ(j.stats().segments, 1U);  // the one being written stays
}

TEST(Journal, WithNoSegmentReadyRecordsGoUnjournaledWithoutWaitingForTheDisk) {
  TempDir dir;
  JournalOptions o = options(dir, 64 * 1024);
  o.spares = 0;  // the disk thread makes none: as if the disk could not keep up at all
  o.spare_wait = std::chrono::milliseconds(300);
  Journal j(o);
  // The first record waits for a segment once, in vain; the others neither wait again nor
  // lose their numbers.
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= 10'000; ++i) {
    Record r = message(i);
    EXPECT_EQ(j.append(r), static_cast<std::uint64_t>(i));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));  // not 10,000 waits
  EXPECT_EQ(j.stats().not_journaled, 10'000U);
  EXPECT_EQ(j.stats().appended, 0U);
  EXPECT_EQ(j.last_seq(), 10'000U);
}

TEST(Journal, SegmentFilesAreMadeAheadAndSparesLeftAtAStopGo) {
  TempDir dir;
  const auto files = [&] {
    return std::distance(std::filesystem::directory_iterator(dir.path / "journal"),
                         std::filesystem::directory_iterator());
  };
  {
    Journal j(options(dir, 64 * 1024));
    Record r = message(1);
    j.append(r);
    // The segment being written and spares ahead of it (made by the disk thread meanwhile).
    for (int i = 0; i < 500 && files() < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(files(), 3);
  }
  EXPECT_EQ(files(), 1);  // the spares were never written to: gone
  Journal again(options(dir, 64 * 1024));
  EXPECT_EQ(again.last_seq(), 1U);
  EXPECT_EQ(again.stats().segments, 1U);
}

}  // namespace
}  // namespace bgpscribe::collector
