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
  std::ofstream(config) << "state_directory: '" << (dir / "state").string()
                        << "'\n"
                           "kafka:\n"
                           "  brokers: ["
                        << tests::archive::brokers_yaml(cluster)
                        << "]\n"
                           "  group_id: archive-test\n"
                           "  topics: ["
                        << tests::archive::kRecordsTopic
                        << "]\n"
                           // The killed member holds up the next join this long (mock cluster).
                           "  properties: {session.timeout.ms: '6000', heartbeat.interval.ms: "
                           "'500'}\n"
                           "exporters:\n"
                           "  - "
                        << postgres_options(archived.dsn()) << "\n";
  const auto log = dir / "archive.log";
  std::mt19937 random(std::random_device{}());
  const std::string updates_count = "SELECT count(*) FROM bgp.updates";

  // First kill: soon after the first rows are in SQL, mid-run (batches sealed and applied, few
  // offsets committed).
  const pid_t first = tests::archive::spawn_archiver(config, log);
  ASSERT_GT(first, 0);
  EXPECT_TRUE(
      tests::wait_until([&] { return count(archived.dsn(), updates_count) > 0; }, 30s, 20ms));
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 150));
  kill_now(first);
  const auto rows_at_first = count(archived.dsn(), updates_count);
  const auto committed_at_first = committed_sum(cluster);

  // Second kill: once the second process has committed offsets of its own (it replayed the
  // journal and read again from the last commit), a little later.
  const pid_t second = tests::archive::spawn_archiver(config, log);
  ASSERT_GT(second, 0);
  const bool moved =
      tests::wait_until([&] { return committed_sum(cluster) > committed_at_first; }, 20s, 50ms);
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
  const auto want = rows(direct.dsn(), kUpdatesQuery);
  const auto got = rows(archived.dsn(), kUpdatesQuery);
  ASSERT_GT(want.size(), records.size());
  EXPECT_EQ(count(direct.dsn(), kTwiceQuery), 0);
  EXPECT_EQ(count(archived.dsn(), kTwiceQuery), 0) << "rows twice (log: " << log << ")";
  EXPECT_EQ(got.size(), want.size()) << "log: " << log;
  // Per peer: how many, and the rows themselves.
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
  const auto events = rows(archived.dsn(), kEventsQuery);
  EXPECT_GT(events.size(), 2U);
  EXPECT_TRUE(events == rows(direct.dsn(), kEventsQuery)) << "session events differ";

  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::cout << "first kill: " << rows_at_first << " rows in SQL, " << committed_at_first
            << " offsets committed; second kill (" << (moved ? "after" : "without")
            << " a commit of its own): " << rows_at_second << " rows, " << committed_at_second
            << " committed; " << want.size() << " rows in all; "
            << (text.str().find("replayed into") != std::string::npos ? "journal replayed"
                                                                      : "nothing replayed")
            << "\n";
}

}  // namespace
}  // namespace bgpscribe::tools
