// AdjRibIn: announcements, withdrawals, ADD-PATH, graceful restart and snapshots that stay
// consistent while the tables change; the prefix index and the tables keyed by its ids.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/table_dump.hpp"
#include "collector/rib/adj_rib_in.hpp"
#include "collector/speaker.hpp"

namespace bgpscribe::collector::rib {
namespace {

namespace bgp = codec::bgp;

bgp::Prefix P(const char* s) {
  return *bgp::Prefix::parse(s);
}

exporters::PeerInfoPtr peer_info(std::uint32_t id) {
  auto p = std::make_shared<exporters::PeerInfo>();
  p->id = id;
  p->peer_address = *bgp::IpAddress::parse("192.0.2." + std::to_string(id));
  p->peer_as = 64500 + id;
  return p;
}

// Encodes `b` for `ctx` and applies every resulting message.
void apply(AdjRibIn& rib, std::uint32_t peer, const UpdateBuilder& b, const bgp::ParseContext& ctx,
           std::int64_t t = 1'700'000'000'000'000) {
  std::vector<std::vector<std::uint8_t>> msgs;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  for (const auto& m : msgs) {
    auto u = bgp::parse_update(m, ctx);
    ASSERT_TRUE(u) << u.error().message;
    rib.apply(peer, *u, ctx, t);
  }
}

struct Routes {
  std::vector<std::string> lines;
};

// "prefix peer path_id attrbytes" per route, in snapshot order.
std::vector<std::string> dump(const exporters::RibSnapshot& s) {
  std::vector<std::string> out;
  for (auto f : s.families()) {
    s.for_each_prefix(f, [&](const bgp::Prefix& p, std::span<const exporters::RibRoute> rs) {
      for (const auto& r : rs) {
        out.push_back(p.to_string() + " " + std::to_string(r.peer_index) + " " +
                      std::to_string(r.path_id) + " " + std::to_string(r.attributes.size()));
      }
    });
  }
  return out;
}

class RibTest : public ::testing::Test {
 protected:
  // Runs what the RIB handed to the io thread (an io_context that ran out of work stays
  // stopped until restarted).
  void drain() {
    io.restart();
    io.poll();
  }
  ~RibTest() override { drain(); }
  boost::asio::io_context io;
  AdjRibIn rib{io};
  bgp::ParseContext ctx;
};

TEST_F(RibTest, AnnounceReplaceWithdraw) {
  rib.session_up(peer_info(1), ctx);
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp).as_path({64501, 3356}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  a.announce(P("10.0.0.0/8")).announce(P("10.1.0.0/16"));
  apply(rib, 1, a, ctx);
  UpdateBuilder a6;
  a6.origin(bgp::Origin::Igp)
      .as_path({64501, 3356})
      .next_hop(*bgp::IpAddress::parse("2001:db8::1"));
  a6.announce(P("2001:db8::/32"));
  apply(rib, 1, a6, ctx);
  EXPECT_EQ(rib.route_count(), 3U);
  // IPv4 and IPv6 routes share nothing but the path: two attribute sets (the IPv6 one has
  // MP_REACH's next hop).
  EXPECT_EQ(rib.attributes().size(), 2U);

  UpdateBuilder b;
  b.origin(bgp::Origin::Igp).as_path({64501, 174}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  b.announce(P("10.0.0.0/8"));
  apply(rib, 1, b, ctx);
  EXPECT_EQ(rib.route_count(), 3U);
  EXPECT_EQ(rib.attributes().size(), 3U);

  UpdateBuilder w;
  w.withdraw(P("10.1.0.0/16")).withdraw(P("2001:db8::/32")).withdraw(P("10.9.0.0/16"));
  apply(rib, 1, w, ctx);
  EXPECT_EQ(rib.route_count(), 1U);
  EXPECT_EQ(rib.stats().withdrawn, 2U);
  EXPECT_EQ(rib.stats().withdrawn_unknown, 1U);
  // Unreferenced attribute sets are gone.
  EXPECT_EQ(rib.attributes().size(), 1U);
}

TEST_F(RibTest, SnapshotIsFrozenWhileTablesChange) {
  rib.session_up(peer_info(1), ctx);
  rib.session_up(peer_info(2), ctx);
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp).as_path({64501}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  a.announce(P("10.2.0.0/16")).announce(P("10.1.0.0/16"));
  apply(rib, 1, a, ctx);
  UpdateBuilder b;
  b.origin(bgp::Origin::Igp).as_path({64502, 1}).next_hop(*bgp::IpAddress::parse("192.0.2.2"));
  b.announce(P("10.1.0.0/16"));
  apply(rib, 2, b, ctx);

  auto snap = rib.snapshot(1);
  EXPECT_EQ(snap->route_count(), 3U);
  const std::vector<std::string> want = {"10.1.0.0/16 0 0 20", "10.1.0.0/16 1 0 24",
                                         "10.2.0.0/16 0 0 20"};
  EXPECT_EQ(dump(*snap), want);

  // Change everything: the snapshot still shows the old state.
  UpdateBuilder w;
  w.withdraw(P("10.1.0.0/16")).withdraw(P("10.2.0.0/16"));
  apply(rib, 1, w, ctx);
  rib.session_down(2);
  drain();
  EXPECT_EQ(rib.route_count(), 0U);
  EXPECT_EQ(dump(*snap), want);
  EXPECT_GE(rib.stats().tables_copied, 1U);
  // Releasing the snapshot on the io thread frees the last attribute sets.
  snap.reset();
  drain();
  EXPECT_EQ(rib.attributes().size(), 0U);
}

TEST_F(RibTest, AddPathKeepsEveryPath) {
  bgp::ParseContext ap;
  ap.set_add_path(bgp::kIpv4Unicast, true);
  rib.session_up(peer_info(1), ap);
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp).as_path({64501}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  a.announce(P("10.1.0.0/16"), 7).announce(P("10.1.0.0/16"), 3).announce(P("10.1.0.0/16"), 0);
  apply(rib, 1, a, ap);
  EXPECT_EQ(rib.route_count(), 3U);
  auto snap = rib.snapshot(1);
  ASSERT_EQ(snap->peers().size(), 1U);
  EXPECT_TRUE(snap->peers()[0].add_path_for(bgp::kIpv4Unicast));
  const std::vector<std::string> want = {"10.1.0.0/16 0 0 20", "10.1.0.0/16 0 3 20",
                                         "10.1.0.0/16 0 7 20"};
  EXPECT_EQ(dump(*snap), want);
  UpdateBuilder w;
  w.withdraw(P("10.1.0.0/16"), 3);
  apply(rib, 1, w, ap);
  EXPECT_EQ(rib.route_count(), 2U);
}

TEST_F(RibTest, SessionDownDropsRoutesUnlessGracefulRestartKeepsThem) {
  rib.session_up(peer_info(1), ctx);
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp).as_path({64501}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  a.announce(P("10.1.0.0/16")).announce(P("10.2.0.0/16"));
  apply(rib, 1, a, ctx);

  rib.session_down(1);
  rib.graceful_restart_stale(1, bgp::kIpv4Unicast);
  drain();
  EXPECT_EQ(rib.route_count(), 2U) << "stale routes are kept";

  // The peer comes back and re-announces one prefix with a new path: it replaces the stale
  // one; End-of-RIB then drops the route still stale.
  rib.session_up(peer_info(1), ctx);
  UpdateBuilder b;
  b.origin(bgp::Origin::Igp).as_path({64501, 2}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  b.announce(P("10.1.0.0/16"));
  apply(rib, 1, b, ctx);
  EXPECT_EQ(rib.route_count(), 2U);
  EXPECT_EQ(dump(*rib.snapshot(2)).size(), 2U);
  rib.graceful_restart_end(1, bgp::kIpv4Unicast);
  EXPECT_EQ(rib.route_count(), 1U);

  rib.session_down(1);
  drain();
  EXPECT_EQ(rib.route_count(), 0U) << "without graceful restart the routes go";
}

// "peer prefix path_id [stale]" per route a query found, in its order.
std::vector<std::string> query(const AdjRibIn& rib, const char* prefix, Match m,
                               std::vector<std::uint32_t> peers = {}, std::size_t stop = 1000) {
  std::vector<std::string> out;
  rib.query(P(prefix), m, peers, [&](const FoundRoute& r) {
    EXPECT_FALSE(r.attributes.empty());
    out.push_back(std::to_string(r.peer->id) + " " + r.prefix.to_string() + " " +
                  std::to_string(r.path_id) + (r.stale ? " stale" : ""));
    return out.size() < stop;
  });
  return out;
}

TEST_F(RibTest, QueriesFindExactLongestAndMoreSpecificRoutes) {
  using V = std::vector<std::string>;
  for (std::uint32_t id : {1U, 2U}) {
    rib.session_up(peer_info(id), ctx);
  }
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp).as_path({64501}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  a.announce(P("10.0.0.0/8")).announce(P("10.1.0.0/16")).announce(P("10.1.2.0/24"));
  apply(rib, 1, a, ctx);
  UpdateBuilder b;
  b.origin(bgp::Origin::Igp).as_path({64502}).next_hop(*bgp::IpAddress::parse("192.0.2.2"));
  b.announce(P("10.0.0.0/8")).announce(P("10.1.128.0/17")).announce(P("11.0.0.0/8"));
  apply(rib, 2, b, ctx);
  UpdateBuilder v6;
  v6.origin(bgp::Origin::Igp).as_path({64501}).next_hop(*bgp::IpAddress::parse("2001:db8::1"));
  v6.announce(P("2001:db8::/32")).announce(P("2001:db8:1::/48"));
  apply(rib, 1, v6, ctx);

  EXPECT_EQ(query(rib, "10.1.0.0/16", Match::Exact), V{"1 10.1.0.0/16 0"});
  EXPECT_EQ(query(rib, "10.0.0.0/8", Match::Exact), (V{"1 10.0.0.0/8 0", "2 10.0.0.0/8 0"}));
  EXPECT_TRUE(query(rib, "10.2.0.0/16", Match::Exact).empty());
  // Longest match, per peer: the /24 of peer 1, the /8 of peer 2 (its /17 does not cover it).
  EXPECT_EQ(query(rib, "10.1.2.3/32", Match::Longest), (V{"1 10.1.2.0/24 0", "2 10.0.0.0/8 0"}));
  EXPECT_EQ(query(rib, "10.1.200.1/32", Match::Longest),
            (V{"1 10.1.0.0/16 0", "2 10.1.128.0/17 0"}));
  EXPECT_EQ(query(rib, "10.1.2.3/32", Match::Longest, {2}), V{"2 10.0.0.0/8 0"});
  EXPECT_TRUE(query(rib, "12.0.0.1/32", Match::Longest).empty());
  EXPECT_EQ(query(rib, "2001:db8:1:2::1/128", Match::Longest), V{"1 2001:db8:1::/48 0"});
  // More-specifics in prefix order per peer, the prefix itself included.
  EXPECT_EQ(query(rib, "10.1.0.0/16", Match::MoreSpecific),
            (V{"1 10.1.0.0/16 0", "1 10.1.2.0/24 0", "2 10.1.128.0/17 0"}));
  EXPECT_EQ(query(rib, "0.0.0.0/0", Match::MoreSpecific).size(), 6U);
  EXPECT_EQ(query(rib, "::/0", Match::MoreSpecific).size(), 2U);
  EXPECT_EQ(query(rib, "0.0.0.0/0", Match::MoreSpecific, {}, 2).size(), 2U) << "stops when asked";

  // Graceful restart keeps peer 2's routes stale; a query says so.
  rib.session_down(2);
  rib.graceful_restart_stale(2, bgp::kIpv4Unicast);
  drain();
  EXPECT_EQ(query(rib, "11.0.0.0/8", Match::Exact), V{"2 11.0.0.0/8 0 stale"});
  const auto counts = rib.family_counts(1);
  ASSERT_EQ(counts.size(), 2U);
  EXPECT_EQ(counts[0].second + counts[1].second, 5U);
}

TEST_F(RibTest, TreatAsWithdrawRemovesTheRoutes) {
  rib.session_up(peer_info(1), ctx);
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp).as_path({64501}).next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  a.announce(P("10.1.0.0/16"));
  apply(rib, 1, a, ctx);
  // The same prefix again with a 3-byte MULTI_EXIT_DISC: RFC 7606 section 7.4 says
  // treat-as-withdraw.
  UpdateBuilder bad;
  bad.origin(bgp::Origin::Igp)
      .as_path({64501})
      .attribute(0x80, 4, std::vector<std::uint8_t>{0, 0, 1})
      .next_hop(*bgp::IpAddress::parse("192.0.2.1"));
  bad.announce(P("10.1.0.0/16"));
  std::vector<std::vector<std::uint8_t>> msgs;
  ASSERT_TRUE(bad.encode(ctx, 4096, msgs));
  auto u = bgp::parse_update(msgs.at(0), ctx);
  ASSERT_TRUE(u);
  ASSERT_EQ(u->reaction(), codec::Reaction::TreatAsWithdraw) << u->diagnostics().strongest.message;
  rib.apply(1, *u, ctx, 0);
  EXPECT_EQ(rib.route_count(), 0U);
  EXPECT_EQ(rib.stats().treat_as_withdraw, 1U);
  // Once more (nothing held now), and a withdrawal of a route not held: the peer's counters
  // (BMP statistics types 11, 12 and 2) in the next snapshot; a treat-as-withdraw of a route
  // not held is no duplicate withdrawal.
  rib.apply(1, *u, ctx, 0);
  UpdateBuilder w;
  w.withdraw(P("10.9.0.0/16"));
  apply(rib, 1, w, ctx);
  const auto snap = rib.snapshot(0);
  ASSERT_EQ(snap->peers().size(), 1U);
  EXPECT_EQ(snap->peers()[0].treat_as_withdraw_updates, 2U);
  EXPECT_EQ(snap->peers()[0].treat_as_withdraw_prefixes, 2U);
  EXPECT_EQ(snap->peers()[0].unknown_withdrawals, 1U);
  // A new session starts them again.
  rib.session_up(peer_info(1), ctx);
  EXPECT_EQ(rib.snapshot(0)->peers()[0].unknown_withdrawals, 0U);
  // The metrics' counters do not: they count since the peer was first seen. One prefix
  // announced; the treat-as-withdraw prefixes are not among the withdrawn.
  const auto c = rib.counters(1);
  ASSERT_EQ(c.families.size(), 1U);
  EXPECT_EQ(c.families[0].family, bgp::kIpv4Unicast);
  EXPECT_EQ(c.families[0].routes, 0U);
  EXPECT_EQ(c.families[0].announced, 1U);
  EXPECT_EQ(c.families[0].withdrawn, 1U);  // 10.9.0.0/16, not held
  EXPECT_EQ(c.withdrawn_unknown, 1U);
  EXPECT_EQ(c.treat_as_withdraw_updates, 2U);
  EXPECT_EQ(c.treat_as_withdraw_prefixes, 2U);
  EXPECT_TRUE(rib.counters(99).families.empty());
}

// ---- KeyIndex and PrefixTable ------------------------------------------------------------------

V4Key k4(std::uint32_t i) {
  // 10.0.0.0/24, 10.0.1.0/24, ...: distinct /24s, in ascending order with i.
  return V4Key{(std::uint64_t{0x0a000000U + (i << 8)} << 8) | 24};
}

std::vector<std::uint8_t> attr_bytes(std::uint32_t i) {
  return {0x40, 1, 1, static_cast<std::uint8_t>(i % 3), 0x40, 5, 4,
          0,    0, 0, static_cast<std::uint8_t>(i)};
}

// Every route of `t` as "key path_id attributes originated", sorted.
template <class Key>
std::vector<std::string> routes_of(const PrefixTable<Key>& t, const KeyIndex<Key>& index) {
  std::vector<std::string> out;
  std::vector<Path> paths;
  t.for_each_id([&](std::uint32_t id) {
    paths.clear();
    EXPECT_TRUE(t.find_id(id, paths));
    for (const auto& p : paths) {
      out.push_back(to_prefix(index.key(id)).to_string() + " " + std::to_string(p.path_id) + " " +
                    std::to_string(p.attributes) + " " + std::to_string(p.originated));
    }
  });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(KeyIndex, IdsAreReusedOnceNoTableHoldsTheKey) {
  AttrStore store;
  KeyIndex<V4Key> index;
  PrefixTable<V4Key> a(store, index);
  PrefixTable<V4Key> b(store, index);
  const auto attrs = store.intern(attr_bytes(1));
  for (std::uint32_t i = 0; i < 3; ++i) {
    a.announce(k4(i), 0, attrs, 1);
  }
  b.announce(k4(1), 0, attrs, 1);
  EXPECT_EQ(index.size(), 3U);
  EXPECT_EQ(index.id_limit(), 4U);
  const auto id1 = index.find(k4(1));
  ASSERT_NE(id1, 0U);
  EXPECT_EQ(index.refs(id1), 2U) << "one reference per table, whatever its paths";
  // Replacing the route takes no second reference.
  a.announce(k4(1), 0, attrs, 2);
  EXPECT_EQ(index.refs(id1), 2U);

  EXPECT_TRUE(a.withdraw(k4(1), 0));
  EXPECT_EQ(index.find(k4(1)), id1) << "b still holds it";
  EXPECT_TRUE(b.withdraw(k4(1), 0));
  EXPECT_EQ(index.find(k4(1)), 0U);
  EXPECT_EQ(index.size(), 2U);
  EXPECT_FALSE(a.withdraw(k4(1), 0));

  // A new prefix takes the freed id; the limit does not grow.
  a.announce(k4(7), 0, attrs, 3);
  EXPECT_EQ(index.find(k4(7)), id1);
  EXPECT_EQ(index.key(id1), k4(7));
  EXPECT_EQ(index.id_limit(), 4U);
  a.announce(k4(8), 0, attrs, 3);
  EXPECT_EQ(index.id_limit(), 5U);
  store.unref(attrs);
  a.clear();
  b.clear();
  EXPECT_EQ(index.size(), 0U);
  EXPECT_EQ(store.size(), 0U);
}

TEST(PrefixTable, SwitchesToAnArrayAndBack) {
  AttrStore store;
  KeyIndex<V4Key> index;
  PrefixTable<V4Key> full(store, index);
  PrefixTable<V4Key> small(store, index);
  const auto attrs = store.intern(attr_bytes(1));
  constexpr std::uint32_t kCount = 10'000;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    full.announce(k4(i), 0, attrs, i);
    if (i % 100 == 0) {
      small.announce(k4(i), 0, attrs, i);
    }
  }
  EXPECT_TRUE(full.dense());
  EXPECT_FALSE(small.dense()) << "100 of 10,000 ids";
  EXPECT_EQ(full.prefix_count(), kCount);
  EXPECT_EQ(small.prefix_count(), 100U);
  // A full table's route is about 8 bytes (the array), where a hash map took 16 or more.
  EXPECT_LT(full.memory(), std::size_t{kCount} * 10);
  std::vector<Path> paths;
  ASSERT_TRUE(full.find(k4(1234), paths));
  EXPECT_EQ(paths.at(0).originated, 1234U);
  EXPECT_FALSE(small.find(k4(1234), paths));

  // Half of the ids make the small table an array too.
  for (std::uint32_t i = 0; i < kCount / 2; ++i) {
    small.announce(k4(i), 0, attrs, i);
  }
  EXPECT_TRUE(small.dense());
  // Withdrawing below a quarter of the ids makes it a hash map again, routes unchanged.
  const auto before = routes_of(small, index);
  for (std::uint32_t i = 0; i < kCount / 2; ++i) {
    if (i % 100 != 0 && i >= 2000) {
      EXPECT_TRUE(small.withdraw(k4(i), 0));
    }
  }
  EXPECT_FALSE(small.dense());
  auto after = routes_of(small, index);
  EXPECT_EQ(small.prefix_count(), after.size());
  EXPECT_TRUE(std::includes(before.begin(), before.end(), after.begin(), after.end()));
  EXPECT_EQ(after.size(), 2000U + 80U);

  full.clear();
  EXPECT_FALSE(full.dense());
  EXPECT_EQ(full.prefix_count(), 0U);
  EXPECT_EQ(full.route_count(), 0U);
  EXPECT_EQ(index.size(), small.prefix_count()) << "only the small table's keys are left";
  // After clear() the table starts over as a hash map, and becomes an array again.
  for (std::uint32_t i = 0; i < kCount; ++i) {
    full.announce(k4(i), 0, attrs, i);
  }
  EXPECT_TRUE(full.dense());
  EXPECT_EQ(routes_of(full, index).size(), kCount);
  store.unref(attrs);
}

// Random announcements, withdrawals, ADD-PATH paths, copies and clears over tables that share
// an index, checked against a plain model after every step: routes, references on keys and
// on attribute sets.
TEST(PrefixTable, AgreesWithAModel) {
  AttrStore store;
  KeyIndex<V4Key> index;
  std::vector<std::unique_ptr<PrefixTable<V4Key>>> tables;
  // Per table: key -> path id -> (attributes index, originated).
  using Model =
      std::map<std::uint32_t, std::map<std::uint32_t, std::pair<std::uint32_t, std::uint32_t>>>;
  std::vector<Model> models;
  std::vector<AttrStore::Id> attrs;
  for (std::uint32_t i = 0; i < 8; ++i) {
    attrs.push_back(store.intern(attr_bytes(i)));
  }
  for (int i = 0; i < 4; ++i) {
    tables.push_back(std::make_unique<PrefixTable<V4Key>>(store, index));
    models.emplace_back();
  }
  std::mt19937 rng(15);
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  bool saw_dense = false;
  bool saw_sparse_again = false;
  for (int step = 0; step < 60'000; ++step) {
    const std::uint32_t t = pick(4);
    auto& table = *tables[t];
    auto& model = models[t];
    const std::uint32_t op = pick(1000);
    // Table 0 roams over every key, the others over a part of them.
    const std::uint32_t key = t == 0 ? pick(3000) : pick(700) + 500 * t;
    // Table 3 uses ADD-PATH path ids now and then.
    const std::uint32_t path = t == 3 && pick(4) == 0 ? pick(3) : 0;
    if (op < 600) {
      const std::uint32_t a = pick(8);
      const auto when = static_cast<std::uint32_t>(step);
      table.announce(k4(key), path, attrs[a], when);
      model[key][path] = {a, when};
    } else if (op < 990) {
      const bool held = model.contains(key) && model[key].contains(path);
      EXPECT_EQ(table.withdraw(k4(key), path), held) << step;
      if (held) {
        model[key].erase(path);
        if (model[key].empty()) {
          model.erase(key);
        }
      }
    } else if (op < 996) {
      // Copy-on-write: the copy goes on, the original (as a snapshot holds it) stays.
      auto copy = std::make_unique<PrefixTable<V4Key>>(table);
      const auto frozen = routes_of(table, index);
      EXPECT_EQ(routes_of(*copy, index), frozen);
      auto old = std::move(tables[t]);
      tables[t] = std::move(copy);
      for (int i = 0; i < 50; ++i) {
        tables[t]->withdraw(k4(pick(3000)), 0);
      }
      // Withdrawals in the copy go to the model by reading the copy back below.
      EXPECT_EQ(routes_of(*old, index), frozen);
      model.clear();
      std::vector<Path> paths;
      tables[t]->for_each_id([&](std::uint32_t id) {
        paths.clear();
        tables[t]->find_id(id, paths);
        const auto k = static_cast<std::uint32_t>(((index.key(id).bits >> 8) - 0x0a000000U) >> 8);
        for (const auto& p : paths) {
          const auto a = static_cast<std::uint32_t>(
              std::find(attrs.begin(), attrs.end(), p.attributes) - attrs.begin());
          model[k][p.path_id] = {a, p.originated};
        }
      });
    } else {
      table.clear();
      model.clear();
    }
    // (`table` is gone after a copy.)
    saw_dense = saw_dense || tables[t]->dense();
    saw_sparse_again = saw_sparse_again || (saw_dense && t == 0 && !tables[t]->dense());
    if (step % 500 != 0) {
      continue;
    }
    // Routes, prefix and route counts of every table.
    std::map<std::uint32_t, std::uint32_t> holders;
    std::map<AttrStore::Id, bool> used;
    for (std::size_t i = 0; i < tables.size(); ++i) {
      std::vector<std::string> want;
      std::size_t routes = 0;
      for (const auto& [k, paths] : models[i]) {
        ++holders[k];
        for (const auto& [p, v] : paths) {
          want.push_back(to_prefix(k4(k)).to_string() + " " + std::to_string(p) + " " +
                         std::to_string(attrs[v.first]) + " " + std::to_string(v.second));
          ++routes;
        }
      }
      std::sort(want.begin(), want.end());
      ASSERT_EQ(routes_of(*tables[i], index), want) << "table " << i << " step " << step;
      EXPECT_EQ(tables[i]->prefix_count(), models[i].size());
      EXPECT_EQ(tables[i]->route_count(), routes);
    }
    // One reference per table holding a key; keys nobody holds are gone.
    EXPECT_EQ(index.size(), holders.size());
    for (const auto& [k, n] : holders) {
      const auto id = index.find(k4(k));
      ASSERT_NE(id, 0U);
      EXPECT_EQ(index.refs(id), n);
    }
  }
  EXPECT_TRUE(saw_dense);
  EXPECT_TRUE(saw_sparse_again);
  tables.clear();
  EXPECT_EQ(index.size(), 0U);
  for (auto a : attrs) {
    store.unref(a);
  }
  EXPECT_EQ(store.size(), 0U);
}

// ---- AdjRibIn over the index ------------------------------------------------------------------

UpdateBuilder route_builder(std::uint32_t peer, std::uint32_t as) {
  UpdateBuilder b;
  b.origin(bgp::Origin::Igp)
      .as_path({64500 + peer, as})
      .next_hop(*bgp::IpAddress::parse("192.0.2." + std::to_string(peer)));
  return b;
}

bgp::Prefix p24(std::uint32_t i) {
  return to_prefix(k4(i));
}

TEST_F(RibTest, CopyOnWriteKeepsTheSnapshotExact) {
  for (std::uint32_t peer = 1; peer <= 3; ++peer) {
    rib.session_up(peer_info(peer), ctx);
    auto b = route_builder(peer, 1);
    for (std::uint32_t i = 0; i < 3000; ++i) {
      if (i % 3 != peer - 1) {
        b.announce(p24(i));
      }
    }
    apply(rib, peer, b, ctx);
  }
  auto snap = rib.snapshot(1);
  const auto want = dump(*snap);
  ASSERT_EQ(want.size(), 6000U);
  EXPECT_TRUE(std::is_sorted(want.begin(), want.end(), [](const auto& a, const auto& b) {
    return *bgp::Prefix::parse(a.substr(0, a.find(' '))) <
           *bgp::Prefix::parse(b.substr(0, b.find(' ')));
  }));
  const auto keys = rib.v4_keys().size();
  EXPECT_EQ(keys, 3000U);

  // Peer 1 withdraws most of its table (its copy turns into a hash map), re-announces some
  // with other attributes and announces new prefixes; peer 2 goes away.
  UpdateBuilder w;
  for (std::uint32_t i = 0; i < 2900; ++i) {
    if (i % 3 != 0) {
      w.withdraw(p24(i));
    }
  }
  apply(rib, 1, w, ctx);
  auto b = route_builder(1, 2);
  b.as_path({64501, 2, 3});
  for (std::uint32_t i = 2900; i < 4000; ++i) {
    b.announce(p24(i));
  }
  apply(rib, 1, b, ctx);
  rib.session_down(2);
  drain();
  EXPECT_EQ(dump(*snap), want) << "the snapshot keeps what it saw";
  // The keys the snapshot still holds keep their ids: new prefixes took new ones.
  EXPECT_EQ(rib.v4_keys().size(), 4000U);

  auto now = rib.snapshot(2);
  std::vector<std::string> expected;
  for (std::uint32_t i = 0; i < 4000; ++i) {
    const std::string p = p24(i).to_string();
    if (i >= 2900) {
      expected.push_back(p + " 0 0 28");  // peer 1's new path
    }
    if (i < 3000 && i % 3 != 2) {
      expected.push_back(p + " 1 0 24");  // peer 3, now the second peer
    }
  }
  EXPECT_EQ(dump(*now), expected);
  snap.reset();
  now.reset();
  drain();
  // Released on the io thread: the withdrawn keys are gone from the index (peer 1 holds
  // 2900-3999, peer 3 2000 prefixes below 3000, 66 of them in both).
  EXPECT_EQ(rib.v4_keys().size(), 1100U + 2000U - 66U);
  EXPECT_GT(rib.memory(), rib.v4_keys().memory());
}

TEST_F(RibTest, AddPathPathsSurviveCopies) {
  bgp::ParseContext ap;
  ap.set_add_path(bgp::kIpv4Unicast, true);
  rib.session_up(peer_info(1), ap);
  auto a = route_builder(1, 1);
  for (std::uint32_t i = 0; i < 600; ++i) {
    a.announce(p24(i), 1);
    if (i % 2 == 0) {
      a.announce(p24(i), 2);
    }
  }
  apply(rib, 1, a, ap);
  EXPECT_EQ(rib.route_count(), 900U);
  auto snap = rib.snapshot(1);
  const auto want = dump(*snap);
  ASSERT_EQ(want.size(), 900U);
  EXPECT_EQ(want[0], "10.0.0.0/24 0 1 24");
  EXPECT_EQ(want[1], "10.0.0.0/24 0 2 24");
  UpdateBuilder w;
  for (std::uint32_t i = 0; i < 600; ++i) {
    w.withdraw(p24(i), 1);
  }
  apply(rib, 1, w, ap);
  EXPECT_EQ(rib.route_count(), 300U);
  EXPECT_EQ(dump(*snap), want);
  EXPECT_EQ(rib.v4_keys().size(), 600U) << "the snapshot holds them";
  snap.reset();
  drain();
  EXPECT_EQ(rib.v4_keys().size(), 300U);
  const auto left = dump(*rib.snapshot(2));
  ASSERT_EQ(left.size(), 300U);
  EXPECT_EQ(left[0], "10.0.0.0/24 0 2 24");
}

TEST_F(RibTest, Ipv6PrefixesByIdInOrder) {
  rib.session_up(peer_info(1), ctx);
  rib.session_up(peer_info(2), ctx);
  auto prefix6 = [](std::uint32_t i, int len) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "2001:db8:%x::/%d", i, len);
    return P(buf);
  };
  for (std::uint32_t peer = 1; peer <= 2; ++peer) {
    UpdateBuilder a;
    a.origin(bgp::Origin::Igp)
        .as_path({64500 + peer})
        .next_hop(*bgp::IpAddress::parse("2001:db8::" + std::to_string(peer)));
    // Announced in descending order; the snapshot sorts.
    for (std::uint32_t i = 400; i-- > 0;) {
      a.announce(prefix6(i, 48));
      if (peer == 2 && i % 10 == 0) {
        a.announce(prefix6(i, 64));
      }
    }
    apply(rib, peer, a, ctx);
  }
  EXPECT_EQ(rib.v6_keys().size(), 440U);
  EXPECT_EQ(rib.v4_keys().size(), 0U);
  auto snap = rib.snapshot(1);
  const auto all = dump(*snap);
  ASSERT_EQ(all.size(), 840U);
  EXPECT_EQ(all[0], "2001:db8::/48 0 0 33");
  EXPECT_EQ(all[1], "2001:db8::/48 1 0 33");
  EXPECT_EQ(all[2], "2001:db8::/64 1 0 33");
  EXPECT_EQ(all[3], "2001:db8:1::/48 0 0 33");

  UpdateBuilder w;
  for (std::uint32_t i = 0; i < 400; i += 2) {
    w.withdraw(prefix6(i, 48));
  }
  apply(rib, 1, w, ctx);
  apply(rib, 2, w, ctx);
  EXPECT_EQ(dump(*snap), all);
  snap.reset();
  drain();
  EXPECT_EQ(rib.v6_keys().size(), 240U);
  const auto limit = rib.v6_keys().id_limit();
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp).as_path({64501}).next_hop(*bgp::IpAddress::parse("2001:db8::1"));
  for (std::uint32_t i = 0; i < 100; ++i) {
    a.announce(prefix6(1000 + i, 56));
  }
  apply(rib, 1, a, ctx);
  EXPECT_EQ(rib.v6_keys().id_limit(), limit) << "freed ids are reused";
  EXPECT_EQ(rib.route_count(), 200U + 240U + 100U);
}

// A snapshot read on another thread while the io thread goes on changing the same tables
// (copy-on-write) and growing the index (new chunks of keys). Meant for the tsan preset too.
TEST_F(RibTest, SnapshotReadOnAnotherThreadWhileTheIoThreadChanges) {
  for (std::uint32_t peer = 1; peer <= 2; ++peer) {
    rib.session_up(peer_info(peer), ctx);
    auto b = route_builder(peer, 1);
    for (std::uint32_t i = 0; i < 5000; ++i) {
      b.announce(p24(i + peer * 100));
    }
    apply(rib, peer, b, ctx);
  }
  auto snap = rib.snapshot(1);
  const auto want = dump(*snap);
  ASSERT_EQ(want.size(), 10'000U);
  std::atomic<int> reads{0};
  std::atomic<bool> mismatch{false};
  std::thread reader([snap, &want, &reads, &mismatch] {
    for (int i = 0; i < 6; ++i) {
      if (dump(*snap) != want) {
        mismatch = true;
      }
      ++reads;
    }
  });
  // Meanwhile: withdraw and re-announce the snapshot's prefixes, and announce 40,000 new ones
  // (more than two chunks of the index).
  std::uint32_t round = 0;
  while (reads.load() < 6 || round < 3) {
    UpdateBuilder w;
    for (std::uint32_t i = 0; i < 5000; i += 7) {
      w.withdraw(p24(i + 100 + round % 7));
    }
    apply(rib, 1, w, ctx);
    auto b = route_builder(1, 2 + round);
    for (std::uint32_t i = 0; i < 2000; ++i) {
      b.announce(p24(10'000 + (round * 2000 + i) % 40'000));
    }
    for (std::uint32_t i = 0; i < 5000; i += 7) {
      b.announce(p24(i + 100 + round % 7));
    }
    apply(rib, 1, b, ctx);
    auto s = rib.snapshot(2);  // taken and dropped on the io thread now and then
    ++round;
  }
  reader.join();
  EXPECT_FALSE(mismatch.load());
  EXPECT_GT(rib.v4_keys().size(), 10'000U);
  snap.reset();
  drain();
  EXPECT_EQ(dump(*rib.snapshot(3)).size(), rib.route_count());
}

TEST(RibAttributes, TwoOctetSessionsAreWidenedAndMpReachAbbreviated) {
  bgp::ParseContext two;
  two.four_octet_as = false;
  UpdateBuilder a;
  a.origin(bgp::Origin::Igp)
      .as_path({64501, 3356})
      .aggregator(64501, 0x0a000001)
      .next_hop(*bgp::IpAddress::parse("2001:db8::1"));
  a.announce(P("2001:db8:1::/48"));
  std::vector<std::vector<std::uint8_t>> msgs;
  ASSERT_TRUE(a.encode(two, 4096, msgs));
  auto u = bgp::parse_update(msgs.at(0), two);
  ASSERT_TRUE(u);
  std::vector<std::uint8_t> out;
  codec::mrt::rib_entry_attributes(u->attributes, two, out);
  // Read back as a TABLE_DUMP_V2 entry would be: 4-octet ASNs, abbreviated MP_REACH.
  bgp::ParseContext four;
  bgp::AttributeOptions opt;
  opt.mrt_rib = true;
  opt.rib_family = bgp::kIpv6Unicast;
  auto attrs = bgp::parse_attributes(codec::wire::Reader(out), four, opt);
  EXPECT_TRUE(attrs.diagnostics.ok()) << attrs.diagnostics.first.message;
  EXPECT_EQ(bgp::to_string(attrs.as_path.to_owned()), "64501 3356");
  EXPECT_EQ(attrs.aggregator.asn, 64501U);
  EXPECT_TRUE(attrs.mp_reach.abbreviated);
  EXPECT_EQ(attrs.mp_reach.next_hop.global.to_string(), "2001:db8::1");
  EXPECT_FALSE(attrs.has(bgp::AttributeType::MpUnreachNlri));
}

}  // namespace
}  // namespace bgpscribe::collector::rib
