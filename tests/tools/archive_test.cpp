// `bgpscribe archive` (tools/archive.hpp) against librdkafka's mock cluster.
//
// Two collectors' Kafka exporters produce the records of a real update file (from two peers,
// with session steps) to the records topic; the archiver consumes them into an MRT exporter. The
// MRT files it writes, one folder per collector, hold for each peer exactly the records, in
// order and byte for byte, that the collector's own MRT exporter writes for the same records.
#include "tools/archive.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "exporters/kafka/exporter.hpp"
#include "exporters/mrt/exporter.hpp"
#include "tests/support/real_records.hpp"
#include "tests/support/records.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"
#include "tests/tools/archive_support.hpp"

namespace bgpscribe::tools {
namespace {

namespace fs = std::filesystem;
namespace mrt = codec::mrt;
using exporters::PeerInfoPtr;
using exporters::Record;
using exporters::SessionState;
using namespace std::chrono_literals;

const std::string kUpdates =
    std::string(BGPSCRIBE_SHARED_DATA) + "/mrt/bgpdump/test_data/updates.et-header.2015.gz";
using tests::archive::kPartitions;
using tests::archive::kRecordsTopic;
using tests::archive::MockCluster;
using tests::archive::offsets;
using tests::archive::produce;
using tests::archive::spawn_archiver;

// The first `updates` UPDATEs of the real file from two peers, with session steps.
std::vector<Record> load_records(std::size_t updates) {
  return tests::real_update_records(kUpdates, updates, 1'449'000'000'000'000, 500);
}

// One uncompressed update file per collector, from the first record until stop:
// <directory>/<collector>/updates.mrt. The archiver's instances need a directory each.
std::string mrt_options(const fs::path& directory, bool archiver) {
  return "{type: mrt, name: mrt, directory: '" + directory.string() +
         (archiver ? "/{collector}', updates_file: updates.mrt"
                   : "', updates_file: '{collector}/updates.mrt'") +
         ", preset: none, compression: none, flush_interval: 10ms}";
}

// What the collector's own MRT exporter writes for `records`.
void write_direct(const std::vector<Record>& records, const std::string& collector,
                  const fs::path& directory) {
  const exporters::ExporterContext context{"mrt", collector, "test", ""};
  auto exporter = exporters::mrt::make(context, YAML::Load(mrt_options(directory, false)));
  exporter->start();
  for (const auto& r : records) {
    exporter->accept(r);
  }
  exporter->stop();
}

// The records of an MRT file, per peer address, in order.
std::map<std::string, std::vector<std::vector<std::uint8_t>>> by_peer(const fs::path& file) {
  std::map<std::string, std::vector<std::vector<std::uint8_t>>> out;
  mrt::FileReader reader;
  EXPECT_TRUE(reader.open(file.string())) << file;
  mrt::FileRecord rec;
  while (reader.next(rec)) {
    std::string peer = "?";
    if (auto m = mrt::parse_bgp4mp_message(rec.record)) {
      peer = m->peer.peer_ip.to_string();
    } else if (auto s = mrt::parse_bgp4mp_state_change(rec.record)) {
      peer = s->peer.peer_ip.to_string();
    }
    out[peer].emplace_back(rec.record.bytes.begin(), rec.record.bytes.end());
  }
  EXPECT_EQ(reader.error(), nullptr) << file;
  return out;
}

std::string config_text(const MockCluster& cluster, const fs::path& dir) {
  const std::string brokers = tests::archive::brokers_yaml(cluster);
  auto yaml = "state_directory: '" + (dir / "state").string() +
              "'\n"
              "kafka:\n"
              "  brokers: [" +
              brokers +
              "]\n"
              "  group_id: archive-test\n"
              "  topics: [" +
              kRecordsTopic +
              "]\n"
              // A member gone without leaving (the mock cluster does not always see the
              // LeaveGroup of a closed consumer) holds up the next join this long.
              "  properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '500'}\n"
              "exporters:\n"
              "  - " +
              mrt_options(dir / "archive", true) + "\n";
  return yaml;
}

ArchiveConfig config_for(const MockCluster& cluster, const fs::path& dir) {
  return parse_archive_config(config_text(cluster, dir), "archive.yaml");
}

TEST(Archive, TwoCollectorsRecordsThroughKafkaGiveTheirOwnMrtFiles) {
  if (!fs::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(1500);
  ASSERT_GT(records.size(), 1500U);
  MockCluster cluster;
  produce(records, "rrc98", cluster);
  produce(records, "rrc99", cluster);

  tests::TempDir dir("bgpscribe-archive");
  Archiver archiver(config_for(cluster, dir.path()), {{"mrt", exporters::mrt::make}});
  bool ok = false;
  std::thread run([&] { ok = archiver.run(); });
  EXPECT_TRUE(tests::wait_until(
      [&] { return archiver.counts().archived.load() >= 2 * records.size(); }, 30s));
  archiver.stop();
  run.join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(archiver.counts().archived.load(), 2 * records.size());
  EXPECT_EQ(archiver.counts().refused.load(), 0U);
  EXPECT_EQ(archiver.counts().collectors.load(), 2U);

  // Nothing dropped by the mock (every partition from offset 0), every offset committed.
  std::int64_t messages = 0;
  for (const auto& o : offsets(cluster)) {
    EXPECT_EQ(o.low, 0) << "the mock cluster dropped messages: feed fewer";
    if (o.high > 0) {  // an empty partition has no offset to commit
      EXPECT_EQ(o.committed, o.high);
    }
    messages += o.high;
  }
  EXPECT_EQ(messages, static_cast<std::int64_t>(2 * records.size()));

  for (const std::string collector : {"rrc98", "rrc99"}) {
    write_direct(records, collector, dir.path() / "direct");
    const auto want = by_peer(dir.path() / "direct" / collector / "updates.mrt");
    const auto got = by_peer(dir.path() / "archive" / collector / "updates.mrt");
    ASSERT_EQ(want.size(), 2U);
    EXPECT_EQ(want.count("?"), 0U);
    EXPECT_EQ(got.size(), want.size()) << collector;
    for (const auto& [peer, list] : want) {
      const auto it = got.find(peer);
      ASSERT_NE(it, got.end()) << collector << " " << peer;
      EXPECT_EQ(it->second.size(), list.size()) << collector << " " << peer;
      EXPECT_TRUE(it->second == list) << collector << " " << peer << ": records differ";
    }
  }
}

// A clean stop commits what the exporters made durable: a second run goes on from there and
// reads nothing twice.
TEST(Archive, ASecondRunGoesOnFromTheCommittedOffsets) {
  if (!fs::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(1000);
  MockCluster cluster;
  produce(records, "rrc99", cluster);
  tests::TempDir dir("bgpscribe-archive");
  std::uint64_t first = 0;
  {
    auto config = config_for(cluster, dir.path());
    config.queue.max_records = 64;  // the archiver stops reading while the exporter is behind
    Archiver archiver(config, {{"mrt", exporters::mrt::make}});
    std::thread run([&] { (void)archiver.run(); });
    EXPECT_TRUE(tests::wait_until([&] { return archiver.counts().archived.load() > 0; }, 30s));
    archiver.stop();
    run.join();
    first = archiver.counts().consumed.load();
  }
  std::int64_t committed = 0;
  for (const auto& o : offsets(cluster)) {
    committed += std::max<std::int64_t>(o.committed, 0);
  }
  EXPECT_EQ(static_cast<std::uint64_t>(committed), first);

  Archiver again(config_for(cluster, dir.path()), {{"mrt", exporters::mrt::make}});
  std::thread run([&] { (void)again.run(); });
  EXPECT_TRUE(tests::wait_until(
      [&] { return first + again.counts().consumed.load() >= records.size(); }, 30s));
  std::this_thread::sleep_for(500ms);  // nothing more comes
  again.stop();
  run.join();
  EXPECT_EQ(first + again.counts().consumed.load(), records.size());
}

// SIGKILL while records are being archived and not yet all committed, then a new process:
// every record ends up in the MRT files once, and the second process commits every offset and
// stops cleanly.
TEST(Archive, KilledWithSigkillAndStartedAgainWritesEveryRecordOnce) {
  if (!fs::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(3000);
  MockCluster cluster;
  produce(records, "rrc99", cluster);
  tests::TempDir dir("bgpscribe-archive");
  const auto config = dir / "archive.yaml";
  std::ofstream(config) << config_text(cluster, dir.path());
  const auto log = dir / "archive.log";

  const pid_t first = spawn_archiver(config, log);
  ASSERT_GT(first, 0);
  const auto partial = dir / "archive" / "rrc99" / ".updates.mrt.partial";
  EXPECT_TRUE(tests::wait_until([&] { return fs::exists(partial); }, 30s));
  std::mt19937 random(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 300));
  ASSERT_EQ(kill(first, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(first, &status, 0), first);
  EXPECT_TRUE(WIFSIGNALED(status));
  std::int64_t committed_at_kill = 0;
  for (const auto& o : offsets(cluster)) {
    committed_at_kill += std::max<std::int64_t>(o.committed, 0);
  }

  const pid_t second = spawn_archiver(config, log);
  ASSERT_GT(second, 0);
  const auto all_committed = [&] {
    for (const auto& o : offsets(cluster)) {
      if (o.high > 0 && o.committed != o.high) {
        return false;
      }
    }
    return true;
  };
  EXPECT_TRUE(tests::wait_until(all_committed, 30s, 200ms));
  ASSERT_EQ(kill(second, SIGTERM), 0);
  ASSERT_EQ(waitpid(second, &status, 0), second);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  write_direct(records, "rrc99", dir.path() / "direct");
  std::set<std::vector<std::uint8_t>> want;
  for (const auto& [peer, list] : by_peer(dir.path() / "direct" / "rrc99" / "updates.mrt")) {
    want.insert(list.begin(), list.end());
  }
  ASSERT_EQ(want.size(), records.size());
  std::set<std::vector<std::uint8_t>> got;
  std::size_t written = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "archive")) {
    if (!entry.is_regular_file() || entry.path().filename().string().starts_with(".")) {
      continue;
    }
    for (const auto& [peer, list] : by_peer(entry.path())) {
      written += list.size();
      got.insert(list.begin(), list.end());
    }
  }
  EXPECT_EQ(got, want) << "records lost or changed (log: " << log << ")";
  // Exactly once: the second process replays the journal after the MRT exporter's position
  // and does not number again what Kafka gives again.
  EXPECT_EQ(written, records.size()) << "log: " << log;
  std::cout << "committed before the kill: " << committed_at_kill << " of " << records.size()
            << "; records written " << written << " (" << written - records.size() << " twice)\n";
}

// A kill between a record's consumption log line and its journal entry leaves a last line
// numbered above the journal's last entry: the next start drops it, and the message at that
// offset is read and archived as new (not taken for one the journal has).
TEST(Archive, ALogLineWithoutItsJournalEntryIsReadAsNew) {
  if (!fs::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(600);
  const auto half = static_cast<std::ptrdiff_t>(records.size() / 2);
  const std::vector<Record> first(records.begin(), records.begin() + half);
  const std::vector<Record> second(records.begin() + half, records.end());
  MockCluster cluster;
  tests::TempDir dir("bgpscribe-archive");
  const auto run_until_committed = [&](std::size_t total) {
    Archiver archiver(config_for(cluster, dir.path()), {{"mrt", exporters::mrt::make}});
    std::thread run([&] { EXPECT_TRUE(archiver.run()); });
    EXPECT_TRUE(tests::wait_until([&] { return archiver.counts().consumed.load() >= total; }, 30s));
    archiver.stop();
    run.join();
    return std::pair(archiver.counts().archived.load(), archiver.counts().skipped.load());
  };
  produce(first, "rrc99", cluster);
  EXPECT_EQ(run_until_committed(first.size()).first, first.size());

  // The line the killed process would have written for the next message of a partition, with
  // the next number, before it died: the journal ends at first.size().
  std::int32_t partition = -1;
  std::int64_t next = 0;
  const auto before = offsets(cluster);
  for (int p = 0; p < kPartitions; ++p) {
    if (before.at(static_cast<std::size_t>(p)).high > 0) {
      partition = p;
      next = before.at(static_cast<std::size_t>(p)).high;
    }
  }
  ASSERT_GE(partition, 0);
  std::ofstream(dir / "state" / "consumed.log", std::ios::app)
      << "rrc99 " << first.size() + 1 << ' ' << partition << ' ' << next << ' ' << kRecordsTopic
      << '\n';

  produce(second, "rrc99", cluster);
  const auto [archived, skipped] = run_until_committed(second.size());
  EXPECT_EQ(archived, second.size());
  EXPECT_EQ(skipped, 0U);
  for (const auto& o : offsets(cluster)) {
    if (o.high > 0) {
      EXPECT_EQ(o.committed, o.high);
    }
  }
  std::set<std::vector<std::uint8_t>> got;
  std::size_t written = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "archive")) {
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with(".")) {
      for (const auto& [peer, list] : by_peer(entry.path())) {
        written += list.size();
        got.insert(list.begin(), list.end());
      }
    }
  }
  EXPECT_EQ(written, records.size());
  EXPECT_EQ(got.size(), records.size());
}

TEST(Archive, BadConfigsAreRefusedNamingTheKey) {
  const auto refused = [](const std::string& yaml, const std::string& words) {
    try {
      (void)parse_archive_config(yaml, "archive.yaml");
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const exporters::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos)
          << e.what() << " (wanted: " << words << ")";
    }
  };
  const std::string exporters = "exporters: [{type: mrt, directory: '/tmp/x/{collector}'}]\n";
  refused("kafka: {brokers: [a:9092]}\n" + exporters, "state_directory");
  refused("state_directory: s\n" + exporters, "kafka");
  refused("state_directory: s\nkafka: {group_id: g}\n" + exporters, "brokers");
  refused("state_directory: s\nkafka: {brokers: [a:9092], topics: ['a b']}\n" + exporters, "topic");
  refused("state_directory: s\nkafka: {brokers: [a:9092], properties: {group.id: x}}\n" + exporters,
          "properties.group.id");
  refused("state_directory: s\nkafka: {brokers: [a:9092], colour: red}\n" + exporters, "colour");
  refused("state_directory: s\nkafka: {brokers: [a:9092]}\n", "exporters");
  refused("state_directory: s\nkafka: {brokers: [a:9092]}\nexporters: [{type: mrt, directory: d}]",
          "{collector}");

  const auto c = parse_archive_config(
      "state_directory: s\nkafka: {brokers: [a:9092, b:9092], group_id: g, topics: [t1, t2], "
      "commit_interval: 5s, properties: {session.timeout.ms: '6000'}}\n" +
          exporters,
      "archive.yaml");
  EXPECT_EQ(c.brokers.size(), 2U);
  EXPECT_EQ(c.group_id, "g");
  EXPECT_EQ(c.topics, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(c.commit_interval, 5s);
  EXPECT_EQ(c.properties.at("session.timeout.ms"), "6000");
  EXPECT_EQ(c.exporters.size(), 1U);
}

}  // namespace
}  // namespace bgpscribe::tools
