// `bgpscribe archive` into a postgres exporter, exactly once across kills (issue 20).
//
// A collector's records (a real update file from two peers, with session steps) go through its
// Kafka exporter to librdkafka's mock cluster; the `bgpscribe` binary archives them into
// PostgreSQL, is killed with SIGKILL twice at different points and started again. The SQL
// tables then hold exactly what the postgres exporter writes when it gets the same records
// directly: every route event and session event once, per peer, none twice.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "exporters/postgres/exporter.hpp"
#include "tests/exporters/postgres/test_database.hpp"
#include "tests/support/real_records.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"
#include "tests/tools/archive_support.hpp"
#include "tools/archive.hpp"

namespace bgpscribe::tools {
namespace {

namespace fs = std::filesystem;
using exporters::Record;
using tests::archive::MockCluster;
using tests::archive::offsets;
using namespace std::chrono_literals;

const std::string kUpdates =
    std::string(BGPSCRIBE_SHARED_DATA) + "/mrt/bgpdump/test_data/updates.et-header.2015.gz";

// Small batches: many of them, so that kills fall between seals, database commits and offset
// commits.
std::string postgres_options(std::string dsn) {
  for (std::size_t at = 0; (at = dsn.find('\'', at)) != std::string::npos; at += 2) {
    dsn.insert(at, 1, '\'');  // quoted for YAML's single quotes
  }
  return "{type: postgres, name: sql, dsn: '" + dsn +
         "', batch_interval_ms: 20, batch_rows: 1000, connections: 1, drain_timeout: 30s}";
}

// What the postgres exporter writes for `records` given to it directly.
void write_direct(const std::vector<Record>& records, const std::string& dsn,
                  const fs::path& state) {
  const exporters::ExporterContext context{"sql", "rrc99", "test", state.string()};
  auto exporter = exporters::postgres::make(context, YAML::Load(postgres_options(dsn)));
  exporter->start();
  for (const auto& r : records) {
    exporter->accept(r);
  }
  exporter->stop();
}

std::vector<std::string> rows(const std::string& dsn, const std::string& query) {
  pqxx::connection c(dsn);
  pqxx::read_transaction tx(c);
  std::vector<std::string> out;
  for (const auto& row : tx.exec(query)) {
    std::string line;
    for (const auto& field : row) {
      line += field.is_null() ? std::string("NULL") : field.as<std::string>();
      line += '|';
    }
    out.push_back(std::move(line));
  }
  return out;
}

std::int64_t count(const std::string& dsn, const std::string& query) {
  try {
    pqxx::connection c(dsn);
    pqxx::read_transaction tx(c);
    return tx.exec1(query)[0].as<std::int64_t>();
  } catch (const pqxx::sql_error&) {
    return 0;  // no schema yet
  }
}

// Every route event, per peer and in time order; the session events the same way.
const std::string kUpdatesQuery =
    "SELECT p.address, u.time, u.ord, u.prefix, u.path_id, u.attr_id, u.cause FROM bgp.updates u "
    "JOIN bgp.peers p USING (peer_id) ORDER BY 1, 2, 3, 4, 5";
const std::string kEventsQuery =
    "SELECT p.address, e.time, e.old_state, e.new_state, e.reason FROM bgp.peer_events e "
    "JOIN bgp.peers p USING (peer_id) ORDER BY 1, 2, 3, 4";
// Rows of one peer's log that are there more than once (a key of bgp.updates in all but name).
const std::string kTwiceQuery =
    "SELECT count(*) FROM (SELECT 1 FROM bgp.updates GROUP BY peer_id, time, ord, prefix, "
    "path_id HAVING count(*) > 1) d";

std::int64_t committed_sum(const MockCluster& cluster) {
  std::int64_t sum = 0;
  for (const auto& o : offsets(cluster)) {
    sum += std::max<std::int64_t>(o.committed, 0);
  }
  return sum;
}

// An archiver on the mock cluster into the postgres exporter on `dsn`.
std::string config_text(const MockCluster& cluster, const fs::path& state, const std::string& dsn) {
  return "state_directory: '" + state.string() +
         "'\n"
         "kafka:\n"
         "  brokers: [" +
         tests::archive::brokers_yaml(cluster) +
         "]\n"
         "  group_id: archive-test\n"
         "  topics: [" +
         tests::archive::kRecordsTopic +
         "]\n"
         // A member gone without leaving holds up the next join this long (mock cluster).
         "  properties: {session.timeout.ms: '3000', heartbeat.interval.ms: '300'}\n"
         "exporters:\n"
         "  - " +
         postgres_options(dsn) + "\n";
}

// The route events (`cause`: all, or only the peers' own) and session events of two databases
// are the same, per peer; none is there twice.
void expect_same_events(const std::string& want_dsn, const std::string& got_dsn,
                        const std::string& cause, const fs::path& log) {
  const std::string query = cause.empty()
                                ? kUpdatesQuery
                                : "SELECT * FROM (" + kUpdatesQuery + ") u WHERE cause = '" +
                                      cause + "' ORDER BY 1, 2, 3, 4, 5";
  const auto want = rows(want_dsn, query);
  const auto got = rows(got_dsn, query);
  EXPECT_EQ(count(want_dsn, kTwiceQuery), 0);
  EXPECT_EQ(count(got_dsn, kTwiceQuery), 0) << "rows twice (log: " << log << ")";
  EXPECT_GT(want.size(), 1000U);
  EXPECT_EQ(got.size(), want.size()) << "log: " << log;
  std::map<std::string, std::pair<std::size_t, std::size_t>> per_peer;
  for (const auto& r : want) {
    ++per_peer[r.substr(0, r.find('|'))].first;
  }
  for (const auto& r : got) {
    ++per_peer[r.substr(0, r.find('|'))].second;
  }
  EXPECT_EQ(per_peer.size(), 2U);
  for (const auto& [peer, n] : per_peer) {
    EXPECT_EQ(n.second, n.first) << peer;
  }
  EXPECT_TRUE(got == want) << "route events differ (log: " << log << ")";
  const auto events = rows(got_dsn, kEventsQuery);
  EXPECT_GT(events.size(), 2U);
  EXPECT_TRUE(events == rows(want_dsn, kEventsQuery)) << "session events differ";
}

void kill_now(pid_t pid) {
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(ArchivePostgres, KilledTwiceEveryEventIsInSqlOnce) {
  BGPSCRIBE_REQUIRE_PG();
  if (!fs::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = tests::real_update_records(kUpdates, 2000, 1'449'000'000'000'000, 500);
  MockCluster cluster;
  tests::archive::produce(records, "rrc99", cluster);
  tests::TempDir dir("bgpscribe-archive-pg");
  tests::TestDatabase archived("archive_pg");
  tests::TestDatabase direct("archive_pg_direct");

  const auto config = dir / "archive.yaml";
  std::ofstream(config) << config_text(cluster, dir / "state", archived.dsn());
  const auto log = dir / "archive.log";
  std::mt19937 random(std::random_device{}());
  const std::string updates_count = "SELECT count(*) FROM bgp.updates";

  // First kill: soon after the first offset commit, mid-run (batches sealed, some applied,
  // some offsets committed, more read).
  const pid_t first = tests::archive::spawn_archiver(config, log);
  ASSERT_GT(first, 0);
  EXPECT_TRUE(tests::wait_until([&] { return committed_sum(cluster) > 0; }, 30s, 20ms));
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 150));
  kill_now(first);
  const auto rows_at_first = count(archived.dsn(), updates_count);
  const auto committed_at_first = committed_sum(cluster);

  // Second kill: once the second process has added rows (the batches the first left in its
  // spool, the journal replayed), typically before it has joined the group again.
  const pid_t second = tests::archive::spawn_archiver(config, log);
  ASSERT_GT(second, 0);
  const bool moved = tests::wait_until(
      [&] { return count(archived.dsn(), updates_count) > rows_at_first; }, 20s, 20ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 150));
  kill_now(second);
  const auto rows_at_second = count(archived.dsn(), updates_count);
  const auto committed_at_second = committed_sum(cluster);

  // Third run: to the end, then SIGTERM.
  const pid_t third = tests::archive::spawn_archiver(config, log);
  ASSERT_GT(third, 0);
  const auto all_committed = [&] {
    for (const auto& o : offsets(cluster)) {
      if (o.high > 0 && o.committed != o.high) {
        return false;
      }
    }
    return true;
  };
  EXPECT_TRUE(tests::wait_until(all_committed, 30s, 100ms));
  ASSERT_EQ(kill(third, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(third, &status, 0), third);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  write_direct(records, direct.dsn(), dir / "direct");
  expect_same_events(direct.dsn(), archived.dsn(), "", log);
  const auto want = rows(direct.dsn(), kUpdatesQuery);

  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::cout << "first kill: " << rows_at_first << " rows in SQL, " << committed_at_first
            << " offsets committed; second kill (" << (moved ? "after" : "without")
            << " rows of its own): " << rows_at_second << " rows, " << committed_at_second
            << " committed; " << want.size() << " rows in all; "
            << (text.str().find("replayed into") != std::string::npos ? "journal replayed"
                                                                      : "nothing replayed")
            << "\n";
}

// Two archivers in one group, each with its own state directory, into one database. The second
// joins once the first has committed the first part (the first's partitions are revoked and
// half of them assigned again); both read the second part; the first stops while it reads the
// third (its partitions go to the second, whose own revoke commit the mock cluster refuses:
// its commits are refused while the group is joining, which a real broker accepts, so the
// second reads its own uncommitted messages again and must not number them again). Every
// route event is in SQL once. Only the peers' own route events are compared exactly: the
// withdrawals a session going down makes come from bgp.rib, which the two archivers' writers
// change side by side.
TEST(ArchivePostgres, TwoArchiversOneStoppingMidRunEveryEventIsInSqlOnce) {
  BGPSCRIBE_REQUIRE_PG();
  if (!fs::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = tests::real_update_records(kUpdates, 2000, 1'449'000'000'000'000, 500);
  const auto part = [&](std::size_t n) {
    const auto third = static_cast<std::ptrdiff_t>(records.size() / 3);
    const auto from = records.begin() + static_cast<std::ptrdiff_t>(n) * third;
    return std::vector<Record>(from, n == 2 ? records.end() : from + third);
  };
  MockCluster cluster;
  tests::TempDir dir("bgpscribe-archive-pg");
  tests::TestDatabase archived("archive_pg_two");
  tests::TestDatabase direct("archive_pg_two_direct");
  const collector::ExporterTable table{{"postgres", exporters::postgres::make}};
  const auto archiver = [&](const std::string& name) {
    auto c = parse_archive_config(config_text(cluster, dir / name, archived.dsn()), name);
    c.name = name;
    return std::make_unique<Archiver>(c, table);
  };
  const auto all_committed = [&] {
    std::int64_t sum = 0;
    for (const auto& o : offsets(cluster)) {
      if (o.high > 0 && o.committed != o.high) {
        return false;
      }
      sum += std::max<std::int64_t>(o.high, 0);
    }
    return sum > 0;
  };

  tests::archive::produce(part(0), "rrc99", cluster);
  auto a = archiver("a");
  std::thread run_a([&] { EXPECT_TRUE(a->run()); });
  EXPECT_TRUE(tests::wait_until([&] { return all_committed(); }, 30s, 50ms));

  auto b = archiver("b");
  std::thread run_b([&] { EXPECT_TRUE(b->run()); });
  const auto b_read = [&] { return b->counts().consumed.load(); };
  // Produced once the group has settled: a revoke while a holds uncommitted records would
  // commit them on a real broker, not on the mock cluster.
  EXPECT_TRUE(tests::wait_until(
      [&] {
        return a->counts().assigned.load() > 0 && b->counts().assigned.load() > 0 &&
               a->counts().assigned.load() + b->counts().assigned.load() ==
                   static_cast<std::uint64_t>(tests::archive::kPartitions);
      },
      30s, 20ms));
  tests::archive::produce(part(1), "rrc99", cluster);
  EXPECT_TRUE(tests::wait_until(all_committed, 30s, 50ms));
  const auto a_before = a->counts().consumed.load();
  tests::archive::produce(part(2), "rrc99", cluster);
  // a stops while it reads the third part (if the group gave it a partition that has some).
  (void)tests::wait_until([&] { return a->counts().consumed.load() > a_before + 50; }, 5s);
  a->stop();
  run_a.join();
  const auto b_at_stop = b_read();
  EXPECT_TRUE(tests::wait_until(all_committed, 30s, 100ms));
  b->stop();
  run_b.join();
  std::cout << "archiver a: " << a->counts().consumed.load() << " messages read, "
            << a->counts().skipped.load() << " read again and skipped; b: " << b_read() << " ("
            << b_at_stop << " while a ran), " << b->counts().skipped.load() << " skipped\n";

  write_direct(records, direct.dsn(), dir / "direct");
  expect_same_events(direct.dsn(), archived.dsn(), "update", dir.path());
}

}  // namespace
}  // namespace bgpscribe::tools
