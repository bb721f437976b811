// The query functions of schema/sql/0002_queries.sql against hand-built data: two collectors,
// three peers (one IPv6), five attribute sets, log rows over five daily partitions, a
// checkpoint of one collector, and the current RIB. Every expected answer comes from a small
// model in this file that replays the rows in order, never from SQL.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "schema/migrations.hpp"
#include "tests/exporters/postgres/test_database.hpp"

namespace bgpscribe {
namespace {

using codec::bgp::IpAddress;
using codec::bgp::Prefix;

// ---- The data --------------------------------------------------------------------------------

constexpr std::int64_t kDay10 = 1715299200;  // 2024-05-10 00:00:00 UTC

// Microseconds since the epoch of 2024-05-DD HH:MM UTC.
constexpr std::int64_t at(int day, int hour, int minute = 0) {
  return ((kDay10 + (day - 10) * 86400LL + hour * 3600LL + minute * 60LL) * 1000000LL);
}

struct AttrSet {
  std::int64_t id;
  std::vector<std::int64_t> as_path;
  std::vector<std::string> communities;
  std::vector<std::string> large_communities;
  std::vector<std::string> extended_communities;
  [[nodiscard]] std::int64_t origin_as() const { return as_path.back(); }
};

const std::vector<AttrSet> kAttrSets = {
    {101, {64501, 3356, 15169}, {"65000:100"}, {"65000:1:2"}, {}},
    {102, {64501, 174, 13335}, {"65000:200"}, {}, {}},
    {103, {64502, 6939, 15169}, {"65000:100", "65000:300"}, {}, {}},
    {104, {64503, 3356, 64496}, {}, {"65000:1:2"}, {}},
    {105, {64503, 1299, 13335}, {}, {}, {"rt:65000:7"}},
};

const AttrSet& attr(std::int64_t id) {
  return *std::find_if(kAttrSets.begin(), kAttrSets.end(),
                       [id](const AttrSet& a) { return a.id == id; });
}

// peer id -> collector id
const std::map<int, int> kPeers = {{1, 1}, {2, 1}, {3, 2}};

constexpr std::int64_t kWithdraw = 0;

struct Row {
  std::int64_t time;
  int ord;
  int peer;
  std::string prefix;  // as PostgreSQL prints cidr
  std::int64_t path_id;
  std::int64_t attr_id;  // kWithdraw: a withdrawal
};

// Collector 1 (peers 1 and 2) has a checkpoint at day 12 00:00; collector 2 (peer 3) none, so
// its RIB comes from the log alone.
constexpr std::int64_t kCheckpoint = at(12, 0);

const std::vector<Row> kRows = {
    // Day 10.
    {at(10, 1), 0, 1, "10.0.0.0/8", 0, 101},  // never touched again: after day 10's
                                              // partition is dropped only the checkpoint has it
    {at(10, 1), 0, 1, "10.1.0.0/16", 0, 101},
    {at(10, 2), 0, 1, "10.1.0.0/16", 0, 102},  // new attributes: since moves
    {at(10, 3), 0, 1, "10.1.2.0/24", 0, 101},
    {at(10, 4), 0, 2, "10.1.0.0/16", 0, 103},
    {at(10, 5), 0, 2, "2001:db8:100::/48", 0, 103},
    {at(10, 6), 0, 1, "192.0.2.0/24", 0, 101},
    {at(10, 7), 0, 1, "192.0.2.0/24", 0, kWithdraw},
    // Day 11.
    {at(11, 1), 0, 1, "10.1.0.0/16", 0, 102},  // same attributes again: since stays
    {at(11, 2), 0, 3, "10.1.0.0/16", 0, 104},
    {at(11, 3), 0, 3, "10.1.2.0/24", 0, 105},
    // One message withdrawing and announcing the same prefix: the announcement counts.
    {at(11, 4), 0, 1, "10.1.2.0/24", 0, 101},
    {at(11, 4), 0, 1, "10.1.2.0/24", 0, kWithdraw},
    {at(11, 5), 0, 2, "10.1.0.0/16", 0, kWithdraw},
    {at(11, 6), 0, 1, "10.1.0.0/16", 7, 101},  // a second path (ADD-PATH id 7)
    // Day 12: a row at the checkpoint's own time is inside the checkpoint.
    {at(12, 0), 0, 1, "172.16.0.0/12", 0, 101},
    {at(12, 1), 0, 1, "10.1.0.0/16", 0, 101},
    {at(12, 2), 0, 2, "10.1.0.0/16", 0, 103},
    // Two messages read at once: ord orders them, the later withdrawal wins.
    {at(12, 3), 0, 3, "10.1.2.0/24", 0, 104},
    {at(12, 3), 1, 3, "10.1.2.0/24", 0, kWithdraw},
    // Day 13.
    {at(13, 10), 0, 1, "10.0.0.0/8", 0, 101},  // re-announced: since is still day 10's
    {at(13, 11), 0, 2, "2001:db8:100::/48", 0, 105},
    {at(13, 12), 0, 3, "10.1.2.0/24", 0, 105},
    {at(13, 13), 0, 1, "10.1.0.0/16", 7, kWithdraw},
    // Day 14.
    {at(14, 9), 0, 1, "10.1.2.128/25", 0, 102},
    {at(14, 10), 0, 2, "2001:db8::/32", 0, 103},
    {at(14, 11), 0, 2, "2001:db8:100::/48", 0, kWithdraw},
};

// ---- The model -------------------------------------------------------------------------------

struct Key {
  int peer;
  std::string prefix;
  std::int64_t path_id;
  friend auto operator<=>(const Key&, const Key&) = default;
};

struct Route {
  std::int64_t attr_id;
  std::int64_t since;
  friend bool operator==(const Route&, const Route&) = default;
};

using Rib = std::map<Key, Route>;

// Replays the rows up to and including t: rows in (time, ord) order, a withdrawal before an
// announcement of the same message; same attributes keep `since`.
Rib model_at(std::int64_t t, const std::vector<Row>& rows = kRows) {
  std::vector<Row> sorted = rows;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Row& a, const Row& b) {
    return std::tuple(a.time, a.ord, a.attr_id != kWithdraw) <
           std::tuple(b.time, b.ord, b.attr_id != kWithdraw);
  });
  Rib rib;
  for (const Row& r : sorted) {
    if (r.time > t) {
      break;
    }
    const Key key{r.peer, r.prefix, r.path_id};
    if (r.attr_id == kWithdraw) {
      rib.erase(key);
      continue;
    }
    auto it = rib.find(key);
    if (it == rib.end() || it->second.attr_id != r.attr_id) {
      rib[key] = Route{r.attr_id, r.time};
    }
  }
  return rib;
}

template <typename Pred>
Rib filter(const Rib& rib, Pred pred) {
  Rib out;
  for (const auto& [k, v] : rib) {
    if (pred(k, v)) {
      out.emplace(k, v);
    }
  }
  return out;
}

bool covers(const Prefix& p, const IpAddress& a) {
  if (p.address.family != a.family) {
    return false;
  }
  for (unsigned bit = 0; bit < p.length; ++bit) {
    const auto mask = static_cast<std::uint8_t>(0x80U >> (bit % 8));
    if ((p.address.bytes[bit / 8] & mask) != (a.bytes[bit / 8] & mask)) {
      return false;
    }
  }
  return true;
}

// Per peer, the routes of the longest prefix covering `address`.
Rib model_lookup(const Rib& rib, const std::string& address) {
  const IpAddress a = *IpAddress::parse(address);
  std::map<int, int> longest;
  for (const auto& [k, v] : rib) {
    const Prefix p = *Prefix::parse(k.prefix);
    if (covers(p, a)) {
      longest[k.peer] =
          std::max(longest.contains(k.peer) ? longest[k.peer] : -1, static_cast<int>(p.length));
    }
  }
  return filter(rib, [&](const Key& k, const Route&) {
    const Prefix p = *Prefix::parse(k.prefix);
    return covers(p, a) && longest[k.peer] == p.length;
  });
}

// ---- The database ----------------------------------------------------------------------------

std::string pg_array(const std::vector<std::string>& v) {
  std::string s = "{";
  for (const auto& e : v) {
    s += (s.size() > 1 ? "," : "") + ("\"" + e + "\"");
  }
  return s + "}";
}

std::string pg_array(const std::vector<std::int64_t>& v) {
  std::string s = "{";
  for (auto e : v) {
    s += (s.size() > 1 ? "," : "") + std::to_string(e);
  }
  return s + "}";
}

// The SQL expression of a time given in microseconds as $n.
std::string ts(int n) {
  return "(timestamptz 'epoch' + $" + std::to_string(n) + "::bigint * interval '1 microsecond')";
}

constexpr const char* kRouteColumns =
    "peer_id, prefix::text, path_id, attr_id, (extract(epoch FROM since) * 1000000)::bigint";

Rib to_rib(const pqxx::result& rows) {
  Rib rib;
  for (const auto& row : rows) {
    const Key key{row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::int64_t>()};
    EXPECT_FALSE(rib.contains(key)) << "duplicate route " << key.peer << " " << key.prefix;
    rib[key] = Route{row[3].as<std::int64_t>(), row[4].as<std::int64_t>()};
  }
  return rib;
}

std::string describe(const Rib& rib) {
  std::string s;
  for (const auto& [k, v] : rib) {
    s += "  peer " + std::to_string(k.peer) + " " + k.prefix + " path " +
         std::to_string(k.path_id) + " attr " + std::to_string(v.attr_id) + " since " +
         std::to_string(v.since) + "\n";
  }
  return s.empty() ? "  (none)\n" : s;
}

class QueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BGPSCRIBE_REQUIRE_PG();
    db_ = std::make_unique<tests::TestDatabase>("queries");
    schema::migrate(db_->dsn());
    connection_ = std::make_unique<pqxx::connection>(db_->dsn());
    pqxx::work tx(*connection_);
    tx.exec0("SET client_min_messages = warning");
    tx.exec("SELECT bgp.ensure_partitions('2024-05-10 00:00+00', '2024-05-14 23:59+00')");
    tx.exec0("INSERT INTO bgp.collectors (collector_id, name) VALUES (1, 'rrc-a'), (2, 'rrc-b')");
    tx.exec0(
        "INSERT INTO bgp.peers (peer_id, collector_id, address, asn, first_seen, last_seen) "
        "VALUES (1, 1, '192.0.2.1', 64501, '2024-05-10', '2024-05-15'), "
        "(2, 1, '2001:db8::2', 64502, '2024-05-10', '2024-05-15'), "
        "(3, 2, '198.51.100.3', 64503, '2024-05-10', '2024-05-15')");
    for (const AttrSet& a : kAttrSets) {
      std::string text;
      for (auto asn : a.as_path) {
        text += (text.empty() ? "" : " ") + std::to_string(asn);
      }
      tx.exec_params0(
          "INSERT INTO bgp.attr_sets (attr_id, origin, as_path, as_path_text, as_path_length, "
          "origin_as, next_hop, communities, large_communities, extended_communities, raw) "
          "VALUES ($1, 'IGP', $2::bigint[], $3, $4, $5, '192.0.2.254', $6::text[], $7::text[], "
          "$8::text[], '\\x00')",
          a.id, pg_array(a.as_path), text, a.as_path.size(), a.origin_as(), pg_array(a.communities),
          pg_array(a.large_communities), pg_array(a.extended_communities));
    }
    for (const Row& r : kRows) {
      tx.exec_params0(
          "INSERT INTO bgp.updates (time, peer_id, ord, prefix, path_id, attr_id) "
          "VALUES (" +
              ts(1) + ", $2, $3, $4, $5, NULLIF($6, 0))",
          r.time, r.peer, r.ord, r.prefix, r.path_id, r.attr_id);
    }
    const Rib checkpoint =
        filter(model_at(kCheckpoint), [](const Key& k, const Route&) { return k.peer != 3; });
    tx.exec_params0("INSERT INTO bgp.checkpoints VALUES (1, " + ts(1) + ", $2)", kCheckpoint,
                    checkpoint.size());
    for (const auto& [k, v] : checkpoint) {
      tx.exec_params0(
          "INSERT INTO bgp.checkpoint_routes VALUES (" + ts(1) + ", $2, $3, $4, $5, " + ts(6) + ")",
          kCheckpoint, k.peer, k.prefix, k.path_id, v.attr_id, v.since);
    }
    // The current RIB, as the exporter keeps it.
    for (const auto& [k, v] : model_at(at(15, 0))) {
      tx.exec_params0("INSERT INTO bgp.rib VALUES ($1, $2, $3, $4, " + ts(5) + ", " + ts(5) + ")",
                      k.peer, k.prefix, k.path_id, v.attr_id, v.since);
    }
    tx.commit();
  }

  pqxx::result query(const std::string& sql, std::int64_t t) {
    pqxx::read_transaction tx(*connection_);
    return tx.exec_params(sql, t);
  }

  pqxx::result query(const std::string& sql) {
    pqxx::read_transaction tx(*connection_);
    return tx.exec(sql);
  }

  // Every time a row has, one microsecond before each, the checkpoint, and after the end.
  static std::vector<std::int64_t> interesting_times() {
    std::set<std::int64_t> times{kCheckpoint, kCheckpoint - 1, at(10, 0), at(15, 0)};
    for (const Row& r : kRows) {
      times.insert(r.time);
      times.insert(r.time - 1);
    }
    return {times.begin(), times.end()};
  }

  std::unique_ptr<tests::TestDatabase> db_;
  std::unique_ptr<pqxx::connection> connection_;
};

TEST_F(QueriesTest, RibAtEveryPeerAndEachPeer) {
  for (std::int64_t t : interesting_times()) {
    const Rib expected = model_at(t);
    const Rib all = to_rib(
        query(std::string("SELECT ") + kRouteColumns + " FROM bgp.rib_at(" + ts(1) + ")", t));
    EXPECT_EQ(all, expected) << "rib_at(" << t << ")\nexpected:\n"
                             << describe(expected) << "got:\n"
                             << describe(all);
    for (const auto& [peer, collector] : kPeers) {
      const Rib one = to_rib(query(std::string("SELECT ") + kRouteColumns + " FROM bgp.rib_at(" +
                                       ts(1) + ", " + std::to_string(peer) + ")",
                                   t));
      const int p = peer;
      EXPECT_EQ(one, filter(expected, [p](const Key& k, const Route&) { return k.peer == p; }))
          << "rib_at(" << t << ", " << peer << ")";
    }
  }
}

TEST_F(QueriesTest, RouteAtEachPrefix) {
  std::set<std::string> prefixes;
  for (const Row& r : kRows) {
    prefixes.insert(r.prefix);
  }
  prefixes.insert("10.1.3.0/24");  // never announced
  for (std::int64_t t : interesting_times()) {
    const Rib expected_all = model_at(t);
    for (const std::string& p : prefixes) {
      const Rib got = to_rib(query(
          std::string("SELECT ") + kRouteColumns + " FROM bgp.route_at('" + p + "', " + ts(1) + ")",
          t));
      EXPECT_EQ(got,
                filter(expected_all, [&](const Key& k, const Route&) { return k.prefix == p; }))
          << "route_at(" << p << ", " << t << ")\ngot:\n"
          << describe(got);
    }
  }
}

// now() and later read bgp.rib, which the exporter keeps: the default argument takes that path.
TEST_F(QueriesTest, CurrentTimeReadsTheRib) {
  const Rib current = model_at(at(15, 0));
  EXPECT_EQ(to_rib(query(std::string("SELECT ") + kRouteColumns + " FROM bgp.rib_at(now())")),
            current);
  EXPECT_EQ(
      to_rib(query(std::string("SELECT ") + kRouteColumns + " FROM bgp.route_at('10.1.0.0/16')")),
      filter(current, [](const Key& k, const Route&) { return k.prefix == "10.1.0.0/16"; }));
  EXPECT_EQ(
      to_rib(query(std::string("SELECT ") + kRouteColumns + " FROM bgp.lookup('10.1.2.200')")),
      model_lookup(current, "10.1.2.200"));
  // Proof that it is bgp.rib that answers: a row only there shows up.
  {
    pqxx::work tx(*connection_);
    tx.exec0("INSERT INTO bgp.rib VALUES (3, '203.0.113.0/24', 0, 104, now(), now())");
    tx.commit();
  }
  EXPECT_EQ(query("SELECT 1 FROM bgp.route_at('203.0.113.0/24')").size(), 1U);
  EXPECT_EQ(query("SELECT 1 FROM bgp.route_at('203.0.113.0/24', '2024-05-15')").size(), 0U);
}

TEST_F(QueriesTest, LookupLongestMatchPerPeer) {
  const std::vector<std::string> addresses = {"10.1.2.200",      "10.1.2.129",      "10.1.2.1",
                                              "10.9.9.9",        "172.16.5.5",      "8.8.8.8",
                                              "2001:db8:100::1", "2001:db8:ffff::1"};
  for (std::int64_t t : interesting_times()) {
    const Rib rib = model_at(t);
    for (const std::string& a : addresses) {
      const Rib got = to_rib(query(
          std::string("SELECT ") + kRouteColumns + " FROM bgp.lookup('" + a + "', " + ts(1) + ")",
          t));
      EXPECT_EQ(got, model_lookup(rib, a)) << "lookup(" << a << ", " << t << ")\ngot:\n"
                                           << describe(got);
    }
  }
}

TEST_F(QueriesTest, RoutesByOriginPathAndCommunity) {
  struct Case {
    std::string call;  // with %T for the time argument
    std::function<bool(const AttrSet&)> matches;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  const std::vector<Case> cases = {
      {"originated_by(15169, %T)", [](const AttrSet& a) { return a.origin_as() == 15169; }},
      {"originated_by(13335, %T)", [](const AttrSet& a) { return a.origin_as() == 13335; }},
      {"paths_through(3356, %T)",
       [](const AttrSet& a) {
         return std::find(a.as_path.begin(), a.as_path.end(), 3356) != a.as_path.end();
       }},
      {"paths_through(64503, %T)",
       [](const AttrSet& a) {
         return std::find(a.as_path.begin(), a.as_path.end(), 64503) != a.as_path.end();
       }},
      {"with_community('65000:100', %T)",
       [&](const AttrSet& a) { return has(a.communities, "65000:100"); }},
      {"with_community('65000:1:2', %T)",
       [&](const AttrSet& a) { return has(a.large_communities, "65000:1:2"); }},
      {"with_community('rt:65000:7', %T)",
       [&](const AttrSet& a) { return has(a.extended_communities, "rt:65000:7"); }},
  };
  for (const Case& c : cases) {
    const auto pred = [&](const Key&, const Route& r) { return c.matches(attr(r.attr_id)); };
    std::vector<std::int64_t> times = interesting_times();
    for (std::int64_t t : times) {
      std::string call = c.call;
      call.replace(call.find("%T"), 2, ts(1));
      const Rib got =
          to_rib(query(std::string("SELECT ") + kRouteColumns + " FROM bgp." + call, t));
      EXPECT_EQ(got, filter(model_at(t), pred)) << call << " at " << t;
    }
    std::string call = c.call;
    call.replace(call.find("%T"), 2, "NULL");  // the current RIB
    EXPECT_EQ(to_rib(query(std::string("SELECT ") + kRouteColumns + " FROM bgp." + call)),
              filter(model_at(at(15, 0)), pred))
        << call;
  }
}

// routes_with_attrs, under the attribute queries: both of its ways, probing the candidate
// prefixes (default) and rebuilding the whole RIB (max_probes 0), give the model's answer.
TEST_F(QueriesTest, RoutesWithAttrsProbesAndRebuildAgree) {
  const std::vector<std::set<std::int64_t>> sets = {{101, 103}, {104}, {102, 105}, {}};
  for (const auto& set : sets) {
    std::string array = "ARRAY[";
    for (auto id : set) {
      array += (array.size() > 6 ? "," : "") + std::to_string(id);
    }
    array += "]::bigint[]";
    for (std::int64_t t : interesting_times()) {
      const Rib expected =
          filter(model_at(t), [&](const Key&, const Route& r) { return set.contains(r.attr_id); });
      for (const char* max_probes : {"200000", "0"}) {
        const Rib got =
            to_rib(query(std::string("SELECT ") + kRouteColumns + " FROM bgp.routes_with_attrs(" +
                             array + ", " + ts(1) + ", " + max_probes + ")",
                         t));
        EXPECT_EQ(got, expected) << array << " at " << t << " max_probes " << max_probes;
      }
    }
  }
}

TEST_F(QueriesTest, PrefixHistoryWithMoreAndLessSpecifics) {
  const Prefix p = *Prefix::parse("10.1.0.0/16");
  struct Variant {
    bool more;
    bool less;
  };
  for (const Variant v :
       {Variant{false, false}, Variant{true, false}, Variant{false, true}, Variant{true, true}}) {
    // From day 10 12:00 to day 13 12:00 (exclusive): a window that cuts rows at both ends.
    const std::int64_t from = at(10, 3);
    const std::int64_t to = at(13, 12);
    std::vector<Row> expected;
    for (const Row& r : kRows) {
      const Prefix q = *Prefix::parse(r.prefix);
      const bool exact = q == p;
      const bool more = q.length > p.length && covers(p, q.address);
      const bool less = q.length < p.length && covers(q, p.address);
      if (r.time >= from && r.time < to && (exact || (v.more && more) || (v.less && less))) {
        expected.push_back(r);
      }
    }
    std::stable_sort(expected.begin(), expected.end(), [](const Row& a, const Row& b) {
      return std::tuple(a.time, a.ord, a.peer, a.prefix, a.path_id) <
             std::tuple(b.time, b.ord, b.peer, b.prefix, b.path_id);
    });
    pqxx::read_transaction tx(*connection_);
    const pqxx::result rows = tx.exec_params(
        "SELECT (extract(epoch FROM time) * 1000000)::bigint, ord, peer_id, prefix::text, "
        "path_id, action, coalesce(attr_id, 0), as_path, origin_as "
        "FROM bgp.prefix_history('10.1.0.0/16', " +
            ts(1) + ", " + ts(2) + ", $3, $4)",
        from, to, v.more, v.less);
    ASSERT_EQ(rows.size(), expected.size()) << "more " << v.more << " less " << v.less;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto row = rows[static_cast<pqxx::result::size_type>(i)];
      const Row& e = expected[i];
      // Rows of one message and time may come in any order among themselves.
      EXPECT_EQ(row[0].as<std::int64_t>(), e.time) << i;
      EXPECT_EQ(row[2].as<int>(), e.peer) << i;
      EXPECT_EQ(row[3].as<std::string>(), e.prefix) << i;
      if (i + 1 < expected.size() && expected[i + 1].time == e.time &&
          expected[i + 1].peer == e.peer && expected[i + 1].prefix == e.prefix) {
        // The withdraw/announce pair of one message: either order, so compare it as a set.
        const auto next = rows[static_cast<pqxx::result::size_type>(i + 1)];
        EXPECT_EQ(next[0].as<std::int64_t>(), e.time) << i + 1;
        EXPECT_EQ(next[2].as<int>(), e.peer) << i + 1;
        EXPECT_EQ(next[3].as<std::string>(), e.prefix) << i + 1;
        EXPECT_EQ(std::minmax(row[6].as<std::int64_t>(), next[6].as<std::int64_t>()),
                  std::minmax(e.attr_id, expected[i + 1].attr_id))
            << i;
        ++i;
        continue;
      }
      EXPECT_EQ(row[6].as<std::int64_t>(), e.attr_id) << i;
      EXPECT_EQ(row[5].as<std::string>(), e.attr_id == kWithdraw ? "withdraw" : "announce");
      if (e.attr_id != kWithdraw) {
        EXPECT_EQ(row[8].as<std::int64_t>(), attr(e.attr_id).origin_as());
      } else {
        EXPECT_TRUE(row[7].is_null());
      }
    }
  }
}

TEST_F(QueriesTest, UpdateCountsPerPeerAndBucket) {
  // Buckets of 12 hours from day 10 00:00; per peer or all.
  using Counts = std::map<std::pair<std::int64_t, int>, std::pair<long, long>>;
  const std::int64_t from = at(10, 0);
  const std::int64_t to = at(14, 10);  // excludes the row at 14 10:00
  const std::int64_t bucket = 12 * 3600 * 1000000LL;
  Counts expected;
  for (const Row& r : kRows) {
    if (r.time >= from && r.time < to) {
      auto& c = expected[{from + (r.time - from) / bucket * bucket, r.peer}];
      (r.attr_id == kWithdraw ? c.second : c.first) += 1;
    }
  }
  for (const std::optional<int> peer : {std::optional<int>{}, std::optional<int>{2}}) {
    pqxx::read_transaction tx(*connection_);
    const pqxx::result rows = tx.exec_params(
        "SELECT (extract(epoch FROM bucket_start) * 1000000)::bigint, peer_id, announcements, "
        "withdrawals FROM bgp.update_counts(" +
            ts(1) + ", " + ts(2) + ", '12 hours', NULLIF($3, 0))",
        from, to, peer.value_or(0));
    Counts got;
    for (const auto& row : rows) {
      got[{row[0].as<std::int64_t>(), row[1].as<int>()}] = {row[2].as<long>(), row[3].as<long>()};
    }
    Counts want = peer ? Counts{} : expected;
    if (peer) {
      for (const auto& [k, v] : expected) {
        if (k.second == *peer) {
          want[k] = v;
        }
      }
    }
    EXPECT_EQ(got, want) << "peer " << peer.value_or(0);
  }
}

TEST_F(QueriesTest, ViewsJoinPeersCollectorsAndAttributes) {
  const pqxx::result rib = query(
      "SELECT collector, peer_address::text, peer_as, as_path_text, origin_as, communities::text "
      "FROM bgp.rib_view WHERE prefix = '10.0.0.0/8'");
  ASSERT_EQ(rib.size(), 1U);
  EXPECT_EQ(rib[0][0].as<std::string>(), "rrc-a");
  EXPECT_EQ(rib[0][1].as<std::string>(), "192.0.2.1/32");
  EXPECT_EQ(rib[0][2].as<long>(), 64501);
  EXPECT_EQ(rib[0][3].as<std::string>(), "64501 3356 15169");
  EXPECT_EQ(rib[0][4].as<long>(), 15169);
  EXPECT_EQ(rib[0][5].as<std::string>(), "{65000:100}");
  EXPECT_EQ(query("SELECT 1 FROM bgp.rib_view").size(), model_at(at(15, 0)).size());

  EXPECT_EQ(query("SELECT 1 FROM bgp.updates_view").size(), kRows.size());
  const pqxx::result w = query(
      "SELECT action, as_path_text, collector FROM bgp.updates_view "
      "WHERE prefix = '192.0.2.0/24' ORDER BY time");
  ASSERT_EQ(w.size(), 2U);
  EXPECT_EQ(w[0][0].as<std::string>(), "announce");
  EXPECT_EQ(w[1][0].as<std::string>(), "withdraw");
  EXPECT_TRUE(w[1][1].is_null());
  EXPECT_EQ(w[1][2].as<std::string>(), "rrc-a");
}

// Retention drops day 10's partitions: the checkpoint at day 12 still gives collector 1's
// complete RIB from then on (10.0.0.0/8 lives only there now), and collector 2, whose rows
// start on day 11, needs no checkpoint.
TEST_F(QueriesTest, CheckpointAnswersAfterRetention) {
  {
    pqxx::work tx(*connection_);
    const pqxx::result dropped =
        tx.exec("SELECT * FROM bgp.drop_partitions('2024-05-11 00:00+00') ORDER BY 1");
    ASSERT_EQ(dropped.size(), 2U);
    EXPECT_EQ(dropped[0][0].as<std::string>(), "checkpoint_routes_20240510");
    EXPECT_EQ(dropped[1][0].as<std::string>(), "updates_20240510");
    tx.commit();
  }
  EXPECT_EQ(query("SELECT 1 FROM bgp.checkpoints").size(), 1U);
  for (std::int64_t t : interesting_times()) {
    if (t < kCheckpoint) {
      continue;
    }
    const Rib expected = model_at(t);
    EXPECT_EQ(to_rib(query(
                  std::string("SELECT ") + kRouteColumns + " FROM bgp.rib_at(" + ts(1) + ")", t)),
              expected)
        << t;
    EXPECT_EQ(to_rib(query(std::string("SELECT ") + kRouteColumns +
                               " FROM bgp.route_at('10.0.0.0/8', " + ts(1) + ")",
                           t)),
              filter(expected, [](const Key& k, const Route&) { return k.prefix == "10.0.0.0/8"; }))
        << t;
  }
}

}  // namespace
}  // namespace bgpscribe
