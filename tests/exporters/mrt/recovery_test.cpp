// Crash safety: temporaries left by a killed process (and by hand, cut mid-record) are turned
// into finished files at the next start, without reusing a finished name.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "codec/mrt/bgp4mp.hpp"
#include "exporters/mrt/naming.hpp"
#include "tests/exporters/mrt/test_util.hpp"

namespace bgpscribe::exporters::mrt::test {
namespace {

std::string config(const TempDir& dir, const std::string& ext) {
  return "{type: mrt, directory: '" + dir.str() +
         "', preset: none, updates_interval: 5m, updates_file: 'x/u.%Y%m%d.%H%M" + ext + "'}";
}

// In a child process: writes `flushed` records, flushes them to the OS, writes `lost` more
// (still buffered), then dies by SIGKILL without stop().
void crash_after(const std::string& yaml, int flushed, int lost) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    MrtExporter e("mrt", options_from(yaml), [](const std::string&) {});
    e.start();
    auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
    for (int i = 0; i < flushed; ++i) {
      e.accept(message_record(
          kT0 + i, peer,
          ipv4_update({24, 10, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)})));
    }
    e.flush(kT0 + 2'000'000);
    for (int i = 0; i < lost; ++i) {
      e.accept(message_record(kT0 + 3'000'000 + i, peer, keepalive()));
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(3);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(MrtRecovery, KilledWriterLeavesAReadablePartialThatStartRecovers) {
  for (const char* ext : {".gz", ".bz2", ""}) {
    SCOPED_TRACE(ext);
    TempDir dir;
    crash_after(config(dir, ext), 500, 20);
    const std::string partial = std::string("x/.u.20261204.0415") + ext + ".partial";
    ASSERT_EQ(files_under(dir.path()), std::vector<std::string>{partial});
    // The partial stream is readable up to the last flush.
    auto before = read_mrt(dir.path() / partial);
    EXPECT_EQ(before.records.size(), 500U);

    Harness h(config(dir, ext));
    h->start();
    const std::string final_name = std::string("x/u.20261204.0415") + ext;
    EXPECT_EQ(files_under(dir.path()), std::vector<std::string>{final_name});
    auto got = read_mrt(dir.path() / final_name);
    EXPECT_TRUE(got.clean) << got.error;
    ASSERT_EQ(got.records.size(), 500U);
    for (std::size_t i = 0; i < got.records.size(); ++i) {
      ASSERT_EQ(got.records[i].bytes, before.records[i].bytes);
    }
    EXPECT_EQ(h->metrics().files_recovered, 1U);
    EXPECT_EQ(h->metrics().records_recovered, 500U);
    EXPECT_TRUE(h.logged("recovered " + (dir.path() / partial).string() + " as " +
                         (dir.path() / final_name).string() + ": 500 records"))
        << (h.log.empty() ? "" : h.log[0]);

    // Restarted within the same interval: the recovered file keeps its name, new records go
    // to the continuation file.
    h->accept(message_record(kT0 + 60'000'000, make_peer("198.51.100.1", 65001), keepalive()));
    h->stop();
    std::vector<std::string> want = {std::string("x/u.20261204.0415.1") + ext, final_name};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(files_under(dir.path()), want);
    EXPECT_EQ(read_mrt(dir.path() / (std::string("x/u.20261204.0415.1") + ext)).records.size(), 1U);
  }
}

// A partial cut by hand in the middle of a record: the whole records before it survive, the
// rest is dropped and counted.
TEST(MrtRecovery, PartialCutMidRecord) {
  TempDir dir;
  // Write 10 whole records into an uncompressed file with the exporter, then cut its copy.
  {
    Harness h(config(dir, ""));
    h->start();
    auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
    for (int i = 0; i < 10; ++i) {
      h->accept(
          message_record(kT0 + i, peer, ipv4_update({24, 10, 0, static_cast<std::uint8_t>(i)})));
    }
    h->stop();
  }
  const fs::path whole = dir.path() / "x/u.20261204.0415";
  const auto size = fs::file_size(whole);
  const auto records = read_mrt(whole).records;
  ASSERT_EQ(records.size(), 10U);
  const std::size_t record_size = records[0].bytes.size();
  // Keep 7 records and a half: as a gzip stream with a sync flush (what a crash leaves).
  std::vector<std::uint8_t> bytes(size);
  {
    std::ifstream in(whole, std::ios::binary);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  }
  const std::size_t cut = 7 * record_size + record_size / 2;
  const fs::path partial = dir.path() / "x/.u.20261204.0420.gz.partial";
  {
    codec::mrt::FileWriter w;
    codec::mrt::WriterOptions o;
    o.compression = codec::mrt::Compression::Gzip;
    ASSERT_TRUE(w.open(partial.string(), o));
    ASSERT_TRUE(w.write(std::span<const std::uint8_t>(bytes).first(cut)));
    ASSERT_TRUE(w.flush());
    // Leak the stream unfinished, as a crash would: copy the file as it is now.
    fs::copy_file(partial, dir.path() / "cut.tmp");
    ASSERT_TRUE(w.close());
  }
  fs::remove(partial);
  fs::rename(dir.path() / "cut.tmp", partial);

  Harness h(config(dir, ".gz"));
  h->start();
  const fs::path recovered = dir.path() / "x/u.20261204.0420.gz";
  ASSERT_TRUE(fs::exists(recovered));
  EXPECT_FALSE(fs::exists(partial));
  auto got = read_mrt(recovered);
  EXPECT_TRUE(got.clean);
  ASSERT_EQ(got.records.size(), 7U);
  EXPECT_EQ(got.records[6].bytes, records[6].bytes);
  EXPECT_EQ(h->metrics().recovery_bytes_dropped, record_size / 2);
  EXPECT_TRUE(h.logged(std::to_string(record_size / 2) + " bytes dropped"));
  h->stop();
}

TEST(MrtRecovery, EmptyPartialIsRemovedAndRecoveryTemporariesAreCleaned) {
  TempDir dir;
  fs::create_directories(dir.path() / "x");
  std::ofstream(dir.path() / "x/.u.20261204.0415.gz.partial").put('\x1f');
  std::ofstream(dir.path() / "x/.u.20261204.0410.gz.recovering") << "junk";
  std::ofstream(dir.path() / "x/.hidden-but-not-ours") << "keep";
  Harness h(config(dir, ".gz"));
  h->start();
  EXPECT_EQ(files_under(dir.path()), std::vector<std::string>{"x/.hidden-but-not-ours"});
  EXPECT_TRUE(h.logged("recovered nothing"));
  EXPECT_TRUE(h.logged("removed interrupted recovery"));
  h->stop();
}

TEST(MrtRecovery, FinalNameTakenGivesAContinuationName) {
  TempDir dir;
  crash_after(config(dir, ".gz"), 5, 0);
  // The interval's file exists already (e.g. finished by another run).
  fs::copy_file(dir.path() / "x/.u.20261204.0415.gz.partial", dir.path() / "x/u.20261204.0415.gz");
  Harness h(config(dir, ".gz"));
  h->start();
  EXPECT_EQ(files_under(dir.path()),
            (std::vector<std::string>{"x/u.20261204.0415.1.gz", "x/u.20261204.0415.gz"}));
  EXPECT_EQ(read_mrt(dir.path() / "x/u.20261204.0415.1.gz").records.size(), 5U);
  h->stop();
}

// A disk that refuses writes (RLIMIT_FSIZE in a child): records wait in memory, the broken
// temporary is recovered, nothing is lost or duplicated once writes work again.
TEST(MrtRecovery, WriteErrorsRetryWithoutLosingRecords) {
  TempDir dir;
  const std::string yaml = config(dir, "");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    std::vector<std::string> log;
    MrtExporter e("mrt", options_from(yaml), [&](const std::string& l) { log.push_back(l); });
    e.start();
    auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
    int sent = 0;
    for (; sent < 50; ++sent) {
      e.accept(message_record(kT0 + sent, peer, keepalive()));
    }
    e.flush(kT0 + 2'000'000);
    rlimit lim{4096, RLIM_INFINITY};  // every file may now hold 4 KiB
    ::setrlimit(RLIMIT_FSIZE, &lim);
    for (; sent < 500; ++sent) {
      e.accept(message_record(kT0 + 3'000'000 + sent, peer, keepalive()));
    }
    e.flush(kT0 + 4'000'000);  // fails: file too large
    const bool failed = e.metrics().write_errors > 0;
    lim.rlim_cur = RLIM_INFINITY;
    ::setrlimit(RLIMIT_FSIZE, &lim);
    e.flush(kT0 + 6'000'000);   // retry works
    e.flush(kT0 + 20'000'000);  // salvage of the broken temporary
    e.stop();
    ::_exit(failed && e.metrics().records_refused == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Every record exactly once, in order, across the finished files.
  std::vector<std::uint32_t> micros;
  for (const auto& f : files_under(dir.path())) {
    ASSERT_EQ(f.find(".partial"), std::string::npos) << f;
    for (const auto& r : read_mrt(dir.path() / f).records) {
      micros.push_back(r.header.microseconds);
    }
  }
  ASSERT_EQ(micros.size(), 500U);
  std::sort(micros.begin(), micros.end());
  EXPECT_EQ(std::adjacent_find(micros.begin(), micros.end()), micros.end());
}

}  // namespace
}  // namespace bgpscribe::exporters::mrt::test
