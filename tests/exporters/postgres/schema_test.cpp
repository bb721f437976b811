// The migration runner against a real PostgreSQL: empty database to latest, idempotence, a
// database newer than the binary, an upgrade from version 1 with data in it, two migrators at
// once, errors, and the embedded set itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "schema/migrations.hpp"
#include "tests/exporters/postgres/test_database.hpp"

namespace bgpscribe {
namespace {

std::vector<int> all_versions() {
  std::vector<int> v;
  for (int i = 1; i <= schema::latest_version(); ++i) {
    v.push_back(i);
  }
  return v;
}

TEST(SchemaMigrations, EmbeddedInOrderWithFileNames) {
  const auto all = schema::migrations();
  ASSERT_GE(all.size(), 2U);
  EXPECT_EQ(schema::latest_version(), static_cast<int>(all.size()));
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%04d_", all[i].version);
    EXPECT_TRUE(all[i].name.starts_with(prefix)) << all[i].name;
    EXPECT_TRUE(all[i].name.ends_with(".sql")) << all[i].name;
    EXPECT_FALSE(all[i].sql.empty());
  }
  EXPECT_EQ(all[0].name, "0001_archive.sql");
  EXPECT_NE(all[0].sql.find("CREATE TABLE bgp.updates"), std::string_view::npos);
  EXPECT_EQ(all[1].name, "0002_queries.sql");
}

class SchemaMigrate : public ::testing::Test {
 protected:
  void SetUp() override { BGPSCRIBE_REQUIRE_PG(); }
};

TEST_F(SchemaMigrate, FromEmptyToLatest) {
  tests::TestDatabase db("empty_to_latest");
  EXPECT_EQ(schema::database_version(db.dsn()), 0);
  const schema::MigrateResult r = schema::migrate(db.dsn());
  EXPECT_EQ(r.from, 0);
  EXPECT_EQ(r.to, schema::latest_version());
  EXPECT_EQ(r.applied, all_versions());
  EXPECT_EQ(schema::database_version(db.dsn()), schema::latest_version());

  pqxx::connection c(db.dsn());
  pqxx::read_transaction tx(c);
  const pqxx::result rows = tx.exec("SELECT version, name FROM bgp.schema_version ORDER BY 1");
  ASSERT_EQ(rows.size(), schema::migrations().size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto row_index = static_cast<pqxx::result::size_type>(i);
    EXPECT_EQ(rows[row_index][0].as<int>(), schema::migrations()[i].version);
    EXPECT_EQ(rows[row_index][1].as<std::string>(), schema::migrations()[i].name);
  }
  // Both migrations left their objects: a table of 0001, a function and a view of 0002.
  EXPECT_TRUE(tx.exec1("SELECT to_regclass('bgp.updates') IS NOT NULL")[0].as<bool>());
  EXPECT_TRUE(tx.exec1("SELECT to_regclass('bgp.rib_view') IS NOT NULL")[0].as<bool>());
  EXPECT_TRUE(tx.exec1("SELECT to_regprocedure('bgp.route_at(cidr, timestamptz)') IS NOT NULL")[0]
                  .as<bool>());
}

TEST_F(SchemaMigrate, SecondRunAppliesNothing) {
  tests::TestDatabase db("twice");
  schema::migrate(db.dsn());
  const schema::MigrateResult again = schema::migrate(db.dsn());
  EXPECT_EQ(again.from, schema::latest_version());
  EXPECT_EQ(again.to, schema::latest_version());
  EXPECT_TRUE(again.applied.empty());
  pqxx::connection c(db.dsn());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM bgp.schema_version")[0].as<int>(),
            schema::latest_version());
}

TEST_F(SchemaMigrate, RefusesNewerDatabase) {
  tests::TestDatabase db("newer");
  schema::migrate(db.dsn());
  const int future = schema::latest_version() + 1;
  {
    pqxx::connection c(db.dsn());
    pqxx::work tx(c);
    tx.exec_params0("INSERT INTO bgp.schema_version (version, name) VALUES ($1, 'from_later.sql')",
                    future);
    tx.commit();
  }
  EXPECT_EQ(schema::database_version(db.dsn()), future);
  try {
    schema::migrate(db.dsn());
    FAIL() << "a database at version " << future << " was accepted";
  } catch (const schema::SchemaError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("version " + std::to_string(future)), std::string::npos) << message;
    EXPECT_NE(message.find("version " + std::to_string(schema::latest_version())),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("newer"), std::string::npos) << message;
    EXPECT_NE(message.find("run that version"), std::string::npos) << message;
  }
  // Nothing was touched.
  EXPECT_EQ(schema::database_version(db.dsn()), future);
}

// The upgrade an existing archive goes through: a database at version 1 with data gets the
// later migrations, and its rows stay and work with them.
TEST_F(SchemaMigrate, FromVersionOneKeepsRows) {
  tests::TestDatabase db("from_v1");
  {
    pqxx::connection c(db.dsn());
    const schema::MigrateResult r = schema::migrate(c, 1);
    EXPECT_EQ(r.applied, std::vector<int>{1});
    EXPECT_EQ(schema::database_version(c), 1);
    pqxx::work tx(c);
    tx.exec("SELECT bgp.ensure_partitions('2024-05-14 00:00+00', '2024-05-14 23:00+00')");
    tx.exec0("INSERT INTO bgp.collectors (collector_id, name) VALUES (1, 'rrc-test')");
    tx.exec0(
        "INSERT INTO bgp.peers (peer_id, collector_id, address, asn, first_seen, last_seen) "
        "VALUES (1, 1, '192.0.2.1', 64501, '2024-05-14', '2024-05-14')");
    tx.exec0(
        "INSERT INTO bgp.attr_sets (attr_id, as_path, as_path_text, origin_as, raw) "
        "VALUES (42, '{64501,15169}', '64501 15169', 15169, '\\x40010100')");
    tx.exec0(
        "INSERT INTO bgp.updates (time, peer_id, prefix, attr_id) VALUES "
        "('2024-05-14 10:00+00', 1, '8.8.8.0/24', 42), "
        "('2024-05-14 11:00+00', 1, '8.8.8.0/24', NULL)");
    tx.exec0(
        "INSERT INTO bgp.rib VALUES (1, '1.1.1.0/24', 0, 42, '2024-05-14 09:00+00', "
        "'2024-05-14 09:00+00')");
    tx.commit();
  }
  const schema::MigrateResult r = schema::migrate(db.dsn());
  EXPECT_EQ(r.from, 1);
  EXPECT_EQ(r.to, schema::latest_version());
  ASSERT_FALSE(r.applied.empty());
  EXPECT_EQ(r.applied.front(), 2);

  pqxx::connection c(db.dsn());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM bgp.updates")[0].as<int>(), 2);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM bgp.rib")[0].as<int>(), 1);
  // The functions of version 2 over the rows of version 1.
  const pqxx::result at10 =
      tx.exec("SELECT peer_id, attr_id FROM bgp.route_at('8.8.8.0/24', '2024-05-14 10:30+00')");
  ASSERT_EQ(at10.size(), 1U);
  EXPECT_EQ(at10[0][1].as<long long>(), 42);
  EXPECT_TRUE(tx.exec("SELECT 1 FROM bgp.route_at('8.8.8.0/24', '2024-05-14 11:30+00')").empty());
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM bgp.originated_by(15169)")[0].as<int>(), 1);
  EXPECT_EQ(tx.exec1("SELECT as_path_text FROM bgp.rib_view")[0].as<std::string>(), "64501 15169");
}

TEST_F(SchemaMigrate, FromVersionTwoKeepsWriterProgressAsPartZero) {
  tests::TestDatabase db("from_v2");
  {
    pqxx::connection c(db.dsn());
    EXPECT_EQ(schema::migrate(c, 2).applied, (std::vector<int>{1, 2}));
    pqxx::work tx(c);
    tx.exec0("INSERT INTO bgp.collectors (collector_id, name) VALUES (1, 'rrc-test')");
    tx.exec0(
        "INSERT INTO bgp.writer_progress (collector_id, stream, last_batch) VALUES (1, 7, 41)");
    tx.commit();
  }
  const schema::MigrateResult r = schema::migrate(db.dsn());
  EXPECT_EQ(r.from, 2);
  ASSERT_FALSE(r.applied.empty());
  EXPECT_EQ(r.applied.front(), 3);

  pqxx::connection c(db.dsn());
  pqxx::work tx(c);
  // A writer of version 2 applied its batches whole: that is part 0 of each.
  EXPECT_EQ(
      tx.exec1("SELECT part || ':' || last_batch FROM bgp.writer_progress")[0].as<std::string>(),
      "0:41");
  // The key now includes the part: a second part of the same stream is a row of its own.
  tx.exec0(
      "INSERT INTO bgp.writer_progress (collector_id, stream, part, last_batch) VALUES (1, 7, 1, "
      "40)");
  EXPECT_THROW(tx.exec0("INSERT INTO bgp.writer_progress (collector_id, stream, part, last_batch) "
                        "VALUES (1, 7, 1, 42)"),
               pqxx::unique_violation);
}

// Version 4 moves bgp.rib into four hash partitions on the prefix and gives new time partitions
// of the log the same split; rows, the view over the RIB and the old time partitions stay.
TEST_F(SchemaMigrate, FromVersionThreeMovesTheRibIntoHashPartitions) {
  tests::TestDatabase db("from_v3");
  {
    pqxx::connection c(db.dsn());
    EXPECT_EQ(schema::migrate(c, 3).applied, (std::vector<int>{1, 2, 3}));
    pqxx::work tx(c);
    tx.exec0("INSERT INTO bgp.collectors (collector_id, name) VALUES (1, 'rrc-test')");
    tx.exec0(
        "INSERT INTO bgp.peers (peer_id, collector_id, address, asn, first_seen, last_seen) "
        "VALUES (1, 1, '192.0.2.1', 64500, now(), now())");
    tx.exec("SELECT bgp.ensure_partitions('2026-12-01', '2026-12-01')");
    tx.exec0(
        "INSERT INTO bgp.rib (peer_id, prefix, path_id, attr_id, since, updated) "
        "SELECT 1, set_masklen(('10.0.0.0'::inet + i * 256), 24)::cidr, 0, i, '2026-12-01', "
        "'2026-12-01' FROM generate_series(1, 1000) i");
    tx.exec0(
        "INSERT INTO bgp.updates (time, peer_id, prefix, attr_id) "
        "SELECT '2026-12-01 10:00', peer_id, prefix, attr_id FROM bgp.rib");
    tx.commit();
  }
  const schema::MigrateResult r = schema::migrate(db.dsn());
  EXPECT_EQ(r.from, 3);
  ASSERT_FALSE(r.applied.empty());
  EXPECT_EQ(r.applied.front(), 4);
  EXPECT_EQ(r.applied.back(), schema::latest_version());

  pqxx::connection c(db.dsn());
  pqxx::work tx(c);
  const auto one = [&](const std::string& sql) { return tx.exec1(sql)[0].as<std::string>(); };
  // Every route moved, each into the partition of its hash, and the four share them out.
  EXPECT_EQ(one("SELECT count(*) || ' ' || sum(attr_id) FROM bgp.rib"), "1000 500500");
  EXPECT_EQ(one("SELECT count(DISTINCT tableoid) FROM bgp.rib"), "4");
  EXPECT_EQ(one("SELECT count(*) FROM bgp.rib_view WHERE peer_as = 64500"), "1000");
  EXPECT_EQ(one("SELECT count(*) FROM pg_inherits WHERE inhparent = 'bgp.rib'::regclass"), "4");
  EXPECT_EQ(one("SELECT count(*) FROM bgp.rib WHERE prefix = '10.0.1.0/24'"), "1");
  EXPECT_THROW(tx.exec0("INSERT INTO bgp.rib (peer_id, prefix, path_id, attr_id, since, updated) "
                        "VALUES (1, '10.0.1.0/24', 0, 1, now(), now())"),
               pqxx::unique_violation);
  tx.abort();
  pqxx::work tx2(c);
  // The time partition made by version 3 keeps its rows, unsplit; a new one is split in four.
  EXPECT_EQ(tx2.exec1("SELECT count(*) FROM bgp.updates")[0].as<int>(), 1000);
  EXPECT_EQ(tx2.exec1("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                      "'bgp.updates_20261201'::regclass")[0]
                .as<int>(),
            0);
  tx2.exec("SELECT bgp.ensure_partitions('2026-12-02', '2026-12-02')");
  EXPECT_EQ(tx2.exec1("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                      "'bgp.updates_20261202'::regclass")[0]
                .as<int>(),
            4);
  tx2.exec0(
      "INSERT INTO bgp.updates (time, peer_id, prefix, attr_id) "
      "SELECT '2026-12-02 10:00', peer_id, prefix, attr_id FROM bgp.rib");
  EXPECT_EQ(tx2.exec1("SELECT count(DISTINCT tableoid) FROM bgp.updates WHERE time >= "
                      "'2026-12-02'")[0]
                .as<int>(),
            4);
  // Retention drops a split time partition with its four parts.
  const pqxx::result dropped = tx2.exec("SELECT bgp.drop_partitions('2026-12-03')");
  EXPECT_EQ(dropped.size(), 4U);  // updates and checkpoint_routes of both days
  EXPECT_EQ(tx2.exec1("SELECT count(*) FROM pg_class WHERE relname LIKE 'updates_20261202%'")[0]
                .as<int>(),
            0);
  EXPECT_EQ(tx2.exec1("SELECT count(*) FROM bgp.updates")[0].as<int>(), 0);
}

// Version 7 keeps the peers that BMP routers report apart (router, peer type, distinguisher,
// post-policy in the key): an archive of version 6 with rows in it keeps them, as the
// collector's own sessions, and its RIB and views still work.
TEST_F(SchemaMigrate, FromVersionSixPeersBecomeOwnSessionsAndRoutersSeparatePeers) {
  tests::TestDatabase db("from_v6");
  {
    pqxx::connection c(db.dsn());
    EXPECT_EQ(schema::migrate(c, 6).applied, (std::vector<int>{1, 2, 3, 4, 5, 6}));
    pqxx::work tx(c);
    tx.exec("SELECT bgp.ensure_partitions('2026-12-01', '2026-12-01')");
    tx.exec0("INSERT INTO bgp.collectors (collector_id, name) VALUES (1, 'rrc-test')");
    tx.exec0(
        "INSERT INTO bgp.peers (collector_id, address, asn, name, first_seen, last_seen) VALUES "
        "(1, '192.0.2.1', 64501, 'one', '2026-12-01', '2026-12-01'), "
        "(1, '2001:db8::2', 64502, 'two', '2026-12-01', '2026-12-01')");
    tx.exec0(
        "INSERT INTO bgp.attr_sets (attr_id, as_path, as_path_text, origin_as, raw) "
        "VALUES (42, '{64501,15169}', '64501 15169', 15169, '\\x40010100')");
    tx.exec0(
        "INSERT INTO bgp.rib (peer_id, prefix, path_id, attr_id, since, updated) SELECT peer_id, "
        "'8.8.8.0/24', 0, 42, '2026-12-01 10:00', '2026-12-01 10:00' FROM bgp.peers");
    tx.exec0(
        "INSERT INTO bgp.updates (time, peer_id, prefix, attr_id) SELECT '2026-12-01 10:00', "
        "peer_id, prefix, attr_id FROM bgp.rib");
    tx.commit();
  }
  const schema::MigrateResult r = schema::migrate(db.dsn());
  EXPECT_EQ(r.from, 6);
  ASSERT_FALSE(r.applied.empty());
  EXPECT_EQ(r.applied.front(), 7);
  EXPECT_EQ(r.to, schema::latest_version());

  pqxx::connection c(db.dsn());
  {
    pqxx::work tx(c);
    const auto one = [&](const std::string& sql) { return tx.exec1(sql)[0].as<std::string>(); };
    // The rows of version 6 are the collector's own sessions, with every route where it was.
    EXPECT_EQ(one("SELECT string_agg(format('%s %s [%s] %s %s %s %s', address, asn, router, "
                  "router_address IS NULL, bmp_peer_type, distinguisher, post_policy), '; ' "
                  "ORDER BY peer_id) FROM bgp.peers"),
              "192.0.2.1 64501 [] t 0 0 f; 2001:db8::2 64502 [] t 0 0 f");
    EXPECT_EQ(one("SELECT count(*) FROM bgp.rib_view WHERE router = '' AND NOT post_policy"), "2");
    EXPECT_EQ(one("SELECT count(*) FROM bgp.updates_view WHERE router = ''"), "2");
    EXPECT_EQ(one("SELECT string_agg(collector || ' ' || name, ',' ORDER BY peer_id) FROM "
                  "bgp.peers_view"),
              "rrc-test one,rrc-test two");
    EXPECT_EQ(one("SELECT count(*) FROM bgp.route_at('8.8.8.0/24', '2026-12-01 11:00')"), "2");
    // The same neighbour reported by two routers, pre- and post-policy by one and in a VRF (RD
    // 65000:100) by it: four more peers beside the own session with that address and AS.
    tx.exec0(
        "INSERT INTO bgp.peers (collector_id, router, router_address, bmp_peer_type, "
        "distinguisher, post_policy, address, asn, first_seen, last_seen) VALUES "
        "(1, 'r1', '198.51.100.1', 0, 0, false, '192.0.2.1', 64501, now(), now()), "
        "(1, 'r1', '198.51.100.1', 0, 0, true, '192.0.2.1', 64501, now(), now()), "
        "(1, 'r1', '198.51.100.1', 1, 279172874240100, false, '192.0.2.1', 64501, now(), now()), "
        "(1, 'r2', '198.51.100.2', 0, 0, false, '192.0.2.1', 64501, now(), now())");
    EXPECT_EQ(one("SELECT count(*) FROM bgp.peers WHERE address = '192.0.2.1'"), "5");
    EXPECT_EQ(one("SELECT string_agg(DISTINCT host(router_address), ',') FROM bgp.peers_view "
                  "WHERE router = 'r1'"),
              "198.51.100.1");
    tx.commit();
  }
  // Each source once: an own session or a router's peer again is refused.
  const auto refused = [&](const std::string& values) {
    pqxx::work tx(c);
    tx.exec0(
        "INSERT INTO bgp.peers (collector_id, router, bmp_peer_type, distinguisher, post_policy, "
        "address, asn, first_seen, last_seen) VALUES " +
        values);
  };
  EXPECT_THROW(refused("(1, '', 0, 0, false, '192.0.2.1', 64501, now(), now())"),
               pqxx::unique_violation);
  EXPECT_THROW(refused("(1, 'r1', 0, 0, true, '192.0.2.1', 64501, now(), now())"),
               pqxx::unique_violation);
  // An own session has no BMP fields.
  EXPECT_THROW(refused("(1, '', 0, 0, true, '192.0.2.9', 64501, now(), now())"),
               pqxx::check_violation);
  EXPECT_THROW(refused("(1, '', 1, 7, false, '192.0.2.9', 64501, now(), now())"),
               pqxx::check_violation);
}

// Two collectors starting at once: the advisory lock makes one wait, and every migration is
// applied exactly once between them.
TEST_F(SchemaMigrate, ConcurrentMigratorsApplyEachOnce) {
  tests::TestDatabase db("concurrent");
  std::vector<schema::MigrateResult> results(4);
  std::vector<std::string> errors(results.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        results[i] = schema::migrate(db.dsn());
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::vector<int> applied;
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(errors[i], "");
    EXPECT_EQ(results[i].to, schema::latest_version());
    applied.insert(applied.end(), results[i].applied.begin(), results[i].applied.end());
  }
  std::sort(applied.begin(), applied.end());
  EXPECT_EQ(applied, all_versions());
}

TEST_F(SchemaMigrate, ConnectionFailureIsSchemaError) {
  // A socket folder that does not exist: libpq fails at once, without a network timeout.
  try {
    schema::migrate("host=/nonexistent/bgpscribe-test port=5432 dbname=x connect_timeout=2");
    FAIL() << "connected to nothing";
  } catch (const schema::SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to PostgreSQL"), std::string::npos)
        << e.what();
  }
}

// A migration PostgreSQL refuses: the error names the file and quotes PostgreSQL. Provoked by
// a table in the way of 0001's first statement.
TEST_F(SchemaMigrate, FailedMigrationNamesFileAndPostgresMessage) {
  tests::TestDatabase db("failing");
  {
    pqxx::connection c(db.dsn());
    pqxx::work tx(c);
    tx.exec0("CREATE SCHEMA bgp");
    tx.commit();
  }
  try {
    schema::migrate(db.dsn());
    FAIL() << "0001 ran over an existing schema bgp";
  } catch (const schema::SchemaError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("0001_archive.sql"), std::string::npos) << message;
    EXPECT_NE(message.find("schema \"bgp\" already exists"), std::string::npos) << message;
    EXPECT_NE(message.find("stays at version 0"), std::string::npos) << message;
  }
  EXPECT_EQ(schema::database_version(db.dsn()), 0);
}

// The partition functions of 0001, on a migrated database.
class Partitions : public ::testing::Test {
 protected:
  void SetUp() override {
    BGPSCRIBE_REQUIRE_PG();
    db_ = std::make_unique<tests::TestDatabase>("partitions");
    schema::migrate(db_->dsn());
  }
  std::unique_ptr<tests::TestDatabase> db_;
};

// date_bin, which aligns partitions, refuses months: such a width is refused when set, not at
// the first partition.
TEST_F(Partitions, IntervalInMonthsRefusedDaysAccepted) {
  pqxx::connection c(db_->dsn());
  {
    pqxx::work tx(c);
    EXPECT_THROW(tx.exec0("UPDATE bgp.settings SET partition_interval = '1 month'"),
                 pqxx::check_violation);
  }
  pqxx::work tx(c);
  tx.exec0("UPDATE bgp.settings SET partition_interval = '2 days'");
  EXPECT_EQ(
      tx.exec1("SELECT bgp.ensure_partitions('2024-05-14 00:00+00', '2024-05-14 01:00+00')")[0]
          .as<int>(),
      2);
  EXPECT_EQ(tx.exec1("SELECT (upper - lower)::text FROM bgp.partition_bounds('2024-05-14')")[0]
                .as<std::string>(),
            "2 days");
  EXPECT_TRUE(tx.exec1("SELECT to_regclass('bgp.updates_' || to_char(lower AT TIME ZONE 'UTC', "
                       "'YYYYMMDD')) IS NOT NULL FROM bgp.partition_bounds('2024-05-14')")[0]
                  .as<bool>());
}

// Two writers crossing into a new day at once: the second waits for the first's commit and
// creates nothing, instead of failing on "relation already exists".
TEST_F(Partitions, ConcurrentEnsurePartitionsBothSucceed) {
  pqxx::connection first(db_->dsn());
  pqxx::work tx(first);
  EXPECT_EQ(
      tx.exec1("SELECT bgp.ensure_partitions('2024-05-14 00:00+00', '2024-05-14 23:00+00')")[0]
          .as<int>(),
      2);
  int second_made = -1;
  std::string second_error;
  std::thread second([&] {
    try {
      pqxx::connection c(db_->dsn());
      pqxx::work tx2(c);
      second_made = tx2.exec1(
                           "SELECT bgp.ensure_partitions('2024-05-14 00:00+00', "
                           "'2024-05-14 23:00+00')")[0]
                        .as<int>();
      tx2.commit();
    } catch (const std::exception& e) {
      second_error = e.what();
    }
  });
  // Give the second writer time to reach the lock (it must wait, not fail).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  tx.commit();
  second.join();
  EXPECT_EQ(second_error, "");
  EXPECT_EQ(second_made, 0);
}

// Retention drops whole partitions and the checkpoints inside them, and keeps a checkpoint of
// an empty RIB (no routes to find) whose partition stays.
TEST_F(Partitions, DropPartitionsKeepsCheckpointsOfKeptPartitions) {
  pqxx::connection c(db_->dsn());
  pqxx::work tx(c);
  tx.exec("SELECT bgp.ensure_partitions('2024-05-10 00:00+00', '2024-05-12 23:00+00')");
  tx.exec0("INSERT INTO bgp.collectors (collector_id, name) VALUES (1, 'rrc-test')");
  tx.exec0(
      "INSERT INTO bgp.peers (peer_id, collector_id, address, asn, first_seen, last_seen) "
      "VALUES (1, 1, '192.0.2.1', 64501, '2024-05-10', '2024-05-12')");
  tx.exec0(
      "INSERT INTO bgp.checkpoints VALUES (1, '2024-05-10 06:00+00', 1), "
      "(1, '2024-05-11 06:00+00', 0), (1, '2024-05-12 06:00+00', 0)");
  tx.exec0(
      "INSERT INTO bgp.checkpoint_routes VALUES "
      "('2024-05-10 06:00+00', 1, '10.0.0.0/8', 0, 1, '2024-05-10 05:00+00')");
  // 11 12:00: day 10 ends before it, day 11 does not.
  const pqxx::result dropped =
      tx.exec("SELECT * FROM bgp.drop_partitions('2024-05-11 12:00+00') ORDER BY 1");
  ASSERT_EQ(dropped.size(), 2U);
  EXPECT_EQ(dropped[0][0].as<std::string>(), "checkpoint_routes_20240510");
  EXPECT_EQ(dropped[1][0].as<std::string>(), "updates_20240510");
  const pqxx::result left = tx.exec("SELECT time::text FROM bgp.checkpoints ORDER BY 1");
  ASSERT_EQ(left.size(), 2U);
  EXPECT_EQ(left[0][0].as<std::string>(), "2024-05-11 06:00:00+00");
}

}  // namespace
}  // namespace bgpscribe
