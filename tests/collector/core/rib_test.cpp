// AdjRibIn: announcements, withdrawals, ADD-PATH, graceful restart and snapshots that stay
// consistent while the tables change.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/table_dump.hpp"
#include "collector/peer/update.hpp"
#include "collector/rib/adj_rib_in.hpp"

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
