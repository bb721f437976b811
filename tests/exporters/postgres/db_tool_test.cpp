// `bgpscribe db` end to end: the real binary against databases of the test cluster. Query
// output is compared with the exact text expected for a small hand-built archive; bad arguments
// must exit 2 with a message naming the query and the argument, before any connection.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "schema/migrations.hpp"
#include "tests/exporters/postgres/test_database.hpp"
#include "tests/support/command.hpp"

namespace bgpscribe {
namespace {

namespace fs = std::filesystem;

using Outcome = tests::CommandResult;

// Runs `bgpscribe ARGS...`, capturing stdout, stderr and the exit status.
Outcome run(const std::vector<std::string>& args) {
  return tests::run_command(BGPSCRIBE_BINARY, args);
}

// A small archive: one collector, an IPv4 and an IPv6 peer, two attribute sets, four log rows
// on 2024-05-14 and the current RIB they leave.
class DbToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BGPSCRIBE_REQUIRE_PG();
    db_ = std::make_unique<tests::TestDatabase>("db_tool");
    schema::migrate(db_->dsn());
    pqxx::connection c(db_->dsn());
    pqxx::work tx(c);
    tx.exec("SELECT bgp.ensure_partitions('2024-05-14 00:00+00', '2024-05-14 23:00+00')");
    tx.exec0("INSERT INTO bgp.collectors (collector_id, name) VALUES (1, 'rrc-a')");
    tx.exec0(
        "INSERT INTO bgp.peers (peer_id, collector_id, address, asn, first_seen, last_seen) "
        "VALUES (1, 1, '192.0.2.1', 64501, '2024-05-14', '2024-05-14'), "
        "(2, 1, '2001:db8::2', 64502, '2024-05-14', '2024-05-14')");
    tx.exec0(
        "INSERT INTO bgp.attr_sets (attr_id, origin, as_path, as_path_text, origin_as, next_hop, "
        "communities, large_communities, raw) VALUES "
        "(101, 'IGP', '{64501,3356,15169}', '64501 3356 15169', 15169, '192.0.2.1', "
        "'{65000:100}', '{65000:1:2}', '\\x00'), "
        "(102, 'IGP', '{64502,174,13335}', '64502 174 13335', 13335, '2001:db8::2', '{}', '{}', "
        "'\\x00')");
    tx.exec0(
        "INSERT INTO bgp.updates (time, peer_id, prefix, attr_id) VALUES "
        "('2024-05-14 10:00+00', 1, '10.1.0.0/16', 101), "
        "('2024-05-14 10:00+00', 2, '10.1.0.0/16', 102), "
        "('2024-05-14 11:00+00', 1, '10.1.2.0/24', 101), "
        "('2024-05-14 12:00+00', 2, '10.1.0.0/16', NULL)");
    tx.exec0(
        "INSERT INTO bgp.rib VALUES "
        "(1, '10.1.0.0/16', 0, 101, '2024-05-14 10:00+00', '2024-05-14 10:00+00'), "
        "(1, '10.1.2.0/24', 0, 101, '2024-05-14 11:00+00', '2024-05-14 11:00+00')");
    tx.commit();
  }

  Outcome query(std::vector<std::string> args) {
    args.insert(args.begin(), {"db", "query"});
    args.insert(args.end(), {"--dsn", db_->dsn()});
    return run(args);
  }

  std::unique_ptr<tests::TestDatabase> db_;
};

TEST_F(DbToolTest, RouteAtATimeAsTable) {
  const Outcome r = query({"route", "10.1.0.0/16", "2024-05-14 11:30"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            " peer_id |    peer     | peer_as | router | post_policy |   prefix    | path_id |"
            "         since          |     as_path      |  next_hop   |     communities\n"
            "---------+-------------+---------+--------+-------------+-------------+---------+"
            "------------------------+------------------+-------------+---------------------\n"
            "       1 | 192.0.2.1   |   64501 |        | f           | 10.1.0.0/16 |       0 |"
            " 2024-05-14 10:00:00+00 | 64501 3356 15169 | 192.0.2.1   | 65000:100 65000:1:2\n"
            "       2 | 2001:db8::2 |   64502 |        | f           | 10.1.0.0/16 |       0 |"
            " 2024-05-14 10:00:00+00 | 64502 174 13335  | 2001:db8::2 |\n"
            "(2 rows)\n");
}

TEST_F(DbToolTest, RouteNowAsCsv) {
  // After 12:00 peer 2 withdrew: the current RIB (bgp.rib) has peer 1 only.
  const Outcome r = query({"route", "10.1.0.0/16", "--format", "csv"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "peer_id,peer,peer_as,router,post_policy,prefix,path_id,since,as_path,next_hop,"
            "communities\n"
            "1,192.0.2.1,64501,,f,10.1.0.0/16,0,2024-05-14 10:00:00+00,64501 3356 15169,192.0.2.1,"
            "65000:100 65000:1:2\n");
}

TEST_F(DbToolTest, HistoryWithMoreSpecifics) {
  const Outcome r = query({"history", "10.1.0.0/16", "2024-05-14", "2024-05-15", "--more-specifics",
                           "--format", "csv"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "time,peer_id,peer,peer_as,router,post_policy,prefix,path_id,action,cause,as_path,"
            "next_hop,communities\n"
            "2024-05-14 10:00:00+00,1,192.0.2.1,64501,,f,10.1.0.0/16,0,announce,update,"
            "64501 3356 15169,192.0.2.1,65000:100 65000:1:2\n"
            "2024-05-14 10:00:00+00,2,2001:db8::2,64502,,f,10.1.0.0/16,0,announce,update,"
            "64502 174 13335,2001:db8::2,\n"
            "2024-05-14 11:00:00+00,1,192.0.2.1,64501,,f,10.1.2.0/24,0,announce,update,"
            "64501 3356 15169,192.0.2.1,65000:100 65000:1:2\n"
            "2024-05-14 12:00:00+00,2,2001:db8::2,64502,,f,10.1.0.0/16,0,withdraw,update,,,\n");
  // Without --more-specifics the /24 is not there.
  const Outcome exact = query({"history", "10.1.0.0/16", "--format", "csv"});
  EXPECT_EQ(exact.status, 0) << exact.err;
  EXPECT_EQ(exact.out.find("10.1.2.0/24"), std::string::npos) << exact.out;
}

TEST_F(DbToolTest, LookupOriginThroughCommunityCounts) {
  const Outcome lookup = query({"lookup", "10.1.2.3", "--format", "csv"});
  EXPECT_EQ(lookup.status, 0) << lookup.err;
  EXPECT_EQ(lookup.out,
            "peer_id,peer,peer_as,router,post_policy,prefix,path_id,since,as_path,next_hop,"
            "communities\n"
            "1,192.0.2.1,64501,,f,10.1.2.0/24,0,2024-05-14 11:00:00+00,64501 3356 15169,192.0.2.1,"
            "65000:100 65000:1:2\n");
  // At 11:30, from the log: peer 2's /16 is still there.
  const Outcome origin = query({"origin", "AS13335", "2024-05-14T11:30:00Z", "--format", "csv"});
  EXPECT_EQ(origin.status, 0) << origin.err;
  EXPECT_EQ(origin.out,
            "peer_id,peer,peer_as,router,post_policy,prefix,path_id,since,as_path,next_hop,"
            "communities\n"
            "2,2001:db8::2,64502,,f,10.1.0.0/16,0,2024-05-14 10:00:00+00,64502 174 13335,"
            "2001:db8::2,\n");
  const Outcome through = query({"through", "3356"});
  EXPECT_EQ(through.status, 0) << through.err;
  EXPECT_NE(through.out.find("(2 rows)"), std::string::npos) << through.out;
  const Outcome large = query({"community", "65000:1:2"});
  EXPECT_EQ(large.status, 0) << large.err;
  EXPECT_NE(large.out.find("(2 rows)"), std::string::npos) << large.out;
  const Outcome counts =
      query({"counts", "2024-05-14", "2024-05-15", "12h", "2001:db8::2", "--format", "csv"});
  EXPECT_EQ(counts.status, 0) << counts.err;
  EXPECT_EQ(counts.out,
            "bucket,peer_id,peer,router,post_policy,announcements,withdrawals,"
            "implicit_withdrawals\n"
            "2024-05-14 00:00:00+00,2,2001:db8::2,,f,1,0,0\n"
            "2024-05-14 12:00:00+00,2,2001:db8::2,,f,0,1,0\n");
}

TEST_F(DbToolTest, BadArgumentsExitTwoWithTheReason) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"route", "10.0.0.0/33"}, "route: '10.0.0.0/33' is not a prefix"},
      {{"route", "10.0.0.1/8"},
       "route: '10.0.0.1/8' has bits set right of its length (did you "
       "mean 10.0.0.0/8?)"},
      {{"route", "10.0.0.0"}, "route: '10.0.0.0' is not a prefix: give its length"},
      {{"route"}, "route: takes PREFIX [TIME], got 0 arguments"},
      {{"route", "10.0.0.0/8", "2024-02-30"}, "route: '2024-02-30' is not a time"},
      {{"rib-at", "yesterday"}, "rib-at: 'yesterday' is not a time"},
      {{"rib-at", "now", "peer-one"}, "rib-at: 'peer-one' is not a peer"},
      {{"rib-at", "now", "r1/10.0.0.300"}, "rib-at: 'r1/10.0.0.300' is not a peer"},
      {{"rib-at", "now", "192.0.2.1/post"}, "rib-at: '192.0.2.1/post' is not a peer"},
      {{"counts", "2024-05-14", "2024-05-15", "1h", "r1/"}, "counts: 'r1/' is not a peer"},
      {{"lookup", "10.0.0.300"}, "lookup: '10.0.0.300' is not an IP address"},
      {{"origin", "AS4294967296"}, "origin: 'AS4294967296' is not an AS number"},
      {{"community", "65536:1"}, "community: '65536:1' is not a community"},
      {{"counts", "2024-05-14", "2024-05-15", "1 month"},
       "counts: '1 month' is not a bucket width"},
      {{"history", "10.0.0.0/8", "--less-specifics", "--more-specifics", "x"},
       "history: 'x' is not a time"},
      {{"route", "10.0.0.0/8", "--more-specifics"},
       "route: --more-specifics and --less-specifics are options of history only"},
      {{"routes", "10.0.0.0/8"}, "'routes' is not a query; the queries are rib-at, route,"},
      {{"route", "10.0.0.0/8", "--format", "xml"}, "--format"},
  };
  for (const auto& [args, message] : cases) {
    const Outcome r = query(args);
    EXPECT_EQ(r.status, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << "stderr: " << r.err;
    EXPECT_EQ(r.out, "");
  }
  const Outcome unknown = run({"db", "frob"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("'frob' is not a command"), std::string::npos) << unknown.err;
  // Usage errors come before any connection: an unreachable DSN does not change them.
  const Outcome offline =
      run({"db", "query", "route", "10.0.0.0/33", "--dsn", "host=/nonexistent"});
  EXPECT_EQ(offline.status, 2) << offline.err;
}

// The peers BMP routers report share addresses with each other and with the collector's own
// sessions (schema version 7): ROUTER/ADDRESS[/pre|/post] picks one, and a refusal lists the ids
// with what tells them apart.
TEST_F(DbToolTest, PeersOfBmpRouters) {
  {
    pqxx::connection c(db_->dsn());
    pqxx::work tx(c);
    tx.exec0(
        "INSERT INTO bgp.peers (peer_id, collector_id, address, asn, first_seen, last_seen, "
        "router, router_address, bmp_peer_type, distinguisher, post_policy) VALUES "
        "(3, 1, '192.0.2.1', 64501, '2024-05-14', '2024-05-14', 'r1', '198.51.100.7', 0, 0, "
        "false), "
        "(4, 1, '192.0.2.1', 64501, '2024-05-14', '2024-05-14', 'r1', '198.51.100.7', 0, 0, "
        "true), "
        "(5, 1, '192.0.2.1', 64501, '2024-05-14', '2024-05-14', 'lab/r2', '198.51.100.8', 1, "
        "281470681743460, false)");
    tx.exec0(
        "INSERT INTO bgp.updates (time, peer_id, prefix, attr_id) VALUES "
        "('2024-05-14 10:00+00', 3, '10.3.0.0/16', 101), "
        "('2024-05-14 10:00+00', 4, '10.4.0.0/16', 101), "
        "('2024-05-14 10:00+00', 5, '10.5.0.0/16', 101)");
    tx.commit();
  }
  const auto rib_at = [this](const std::string& peer) {
    return query({"rib-at", "2024-05-14 11:30", peer, "--format", "csv"});
  };
  const std::string header =
      "peer_id,peer,peer_as,router,post_policy,prefix,path_id,since,as_path,next_hop,"
      "communities\n";
  const std::string attrs =
      ",0,2024-05-14 10:00:00+00,64501 3356 15169,192.0.2.1,"
      "65000:100 65000:1:2\n";

  const Outcome ambiguous = rib_at("192.0.2.1");
  EXPECT_EQ(ambiguous.status, 1);
  EXPECT_EQ(ambiguous.out, "");
  EXPECT_EQ(ambiguous.err,
            "bgpscribe db query rib-at: several peers have the address 192.0.2.1 (peer ids "
            "1 (AS64501, own session), 3 (AS64501, router r1, pre-policy), "
            "4 (AS64501, router r1, post-policy), "
            "5 (AS64501, router lab/r2, pre-policy, distinguisher 281470681743460)): give one id, "
            "or ROUTER/ADDRESS[/pre|/post] (/ADDRESS: the collector's own session)\n");
  const Outcome both = rib_at("r1/192.0.2.1");
  EXPECT_EQ(both.status, 1);
  EXPECT_NE(both.err.find("several peers of router r1 have the address 192.0.2.1 (peer ids "
                          "3 (AS64501, router r1, pre-policy), 4 (AS64501, router r1, "
                          "post-policy)): give one id"),
            std::string::npos)
      << both.err;

  const Outcome post = rib_at("r1/192.0.2.1/post");
  EXPECT_EQ(post.status, 0) << post.err;
  EXPECT_EQ(post.out, header + "4,192.0.2.1,64501,r1,t,10.4.0.0/16" + attrs);
  const Outcome pre = rib_at("r1/192.0.2.1/pre");
  EXPECT_EQ(pre.status, 0) << pre.err;
  EXPECT_EQ(pre.out, header + "3,192.0.2.1,64501,r1,f,10.3.0.0/16" + attrs);
  // A router name with a '/' in it: split at the last one before the address.
  const Outcome r2 = rib_at("lab/r2/192.0.2.1");
  EXPECT_EQ(r2.status, 0) << r2.err;
  EXPECT_EQ(r2.out, header + "5,192.0.2.1,64501,lab/r2,f,10.5.0.0/16" + attrs);
  // An empty router: the collector's own session.
  const Outcome own = rib_at("/192.0.2.1");
  EXPECT_EQ(own.status, 0) << own.err;
  EXPECT_EQ(own.out, header + "1,192.0.2.1,64501,,f,10.1.0.0/16" + attrs +
                         "1,192.0.2.1,64501,,f,10.1.2.0/24,0,2024-05-14 11:00:00+00,"
                         "64501 3356 15169,192.0.2.1,65000:100 65000:1:2\n");

  const Outcome none = rib_at("r3/192.0.2.1");
  EXPECT_EQ(none.status, 1);
  EXPECT_EQ(none.err,
            "bgpscribe db query rib-at: no peer of router r3 has the address 192.0.2.1\n");
  const Outcome no_post = rib_at("lab/r2/192.0.2.1/post");
  EXPECT_EQ(no_post.status, 1);
  EXPECT_EQ(no_post.err,
            "bgpscribe db query rib-at: no post-policy peer of router lab/r2 has the address "
            "192.0.2.1\n");
  const Outcome no_own = rib_at("/2001:db8::9");
  EXPECT_EQ(no_own.status, 1);
  EXPECT_EQ(no_own.err,
            "bgpscribe db query rib-at: no own session of the collector has the address "
            "2001:db8::9\n");

  // counts takes the same PEER; the route queries show every source's router and policy.
  const Outcome counts =
      query({"counts", "2024-05-14", "2024-05-15", "1d", "r1/192.0.2.1/post", "--format", "csv"});
  EXPECT_EQ(counts.status, 0) << counts.err;
  EXPECT_EQ(counts.out,
            "bucket,peer_id,peer,router,post_policy,announcements,withdrawals,"
            "implicit_withdrawals\n"
            "2024-05-14 00:00:00+00,4,192.0.2.1,r1,t,1,0,0\n");
  const Outcome history = query({"history", "10.0.0.0/8", "--more-specifics", "--format", "csv"});
  EXPECT_EQ(history.status, 0) << history.err;
  EXPECT_NE(history.out.find("\n2024-05-14 10:00:00+00,5,192.0.2.1,64501,lab/r2,f,10.5.0.0/16,"),
            std::string::npos)
      << history.out;
}

TEST_F(DbToolTest, DatabaseErrorsExitOne) {
  const Outcome no_server =
      run({"db", "query", "route", "10.0.0.0/8", "--dsn", "host=/nonexistent/bgpscribe"});
  EXPECT_EQ(no_server.status, 1);
  EXPECT_NE(no_server.err.find("cannot connect to PostgreSQL"), std::string::npos) << no_server.err;
  // A database at version 1 lacks the query functions: say what to run.
  tests::TestDatabase old("db_tool_v1");
  {
    pqxx::connection c(old.dsn());
    schema::migrate(c, 1);
  }
  const Outcome v1 = run({"db", "query", "route", "10.0.0.0/8", "--dsn", old.dsn()});
  EXPECT_EQ(v1.status, 1);
  EXPECT_NE(v1.err.find("schema version 1 and the queries need version " +
                        std::to_string(schema::latest_version()) + ": run `bgpscribe db migrate`"),
            std::string::npos)
      << v1.err;
}

TEST_F(DbToolTest, MigrateAndStatus) {
  tests::TestDatabase fresh("db_tool_migrate");
  const Outcome first = run({"db", "migrate", "--dsn", fresh.dsn()});
  EXPECT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out,
            "schema version 0 -> 7; applied:\n  1  0001_archive.sql\n"
            "  2  0002_queries.sql\n  3  0003_writer_parts.sql\n"
            "  4  0004_prefix_hash_partitions.sql\n  5  0005_update_causes.sql\n"
            "  6  0006_graceful_restart.sql\n  7  0007_bmp_sources.sql\n");
  const Outcome again = run({"db", "migrate", "--dsn", fresh.dsn()});
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, "schema version 7: up to date, nothing applied\n");

  const Outcome status = run({"db", "status", "--dsn", db_->dsn()});
  EXPECT_EQ(status.status, 0) << status.err;
  EXPECT_NE(status.out.find("schema version:  7 (this bgpscribe: 7)\n"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find(" updates           |          1 | 2024-05-14 00:00:00+00 | "
                            "2024-05-15 00:00:00+00 |"),
            std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find(" rrc-a     |           0 |"), std::string::npos) << status.out;
}

}  // namespace
}  // namespace bgpscribe
