// BMP exporter encoding and options: per-peer header flags, Peer Down reasons, UPDATEs rebuilt
// from TABLE_DUMP_V2 attributes, Statistics Reports, config errors.
#include <gtest/gtest.h>

#include "codec/bgp/update.hpp"
#include "exporters/api/config.hpp"
#include "exporters/bmp/encode.hpp"
#include "tests/exporters/bmp/test_util.hpp"

namespace bgpscribe::exporters::bmp::test {
namespace {

using tests::make_peer;

cbmp::Message round_trip(const codec::wire::Writer& w, ByteVector& keep) {
  keep.assign(w.bytes().begin(), w.bytes().end());
  auto m = cbmp::parse_message(keep);
  EXPECT_TRUE(m);
  return m ? *m : cbmp::Message{};
}

TEST(BmpEncode, PerPeerHeaderFlags) {
  const auto v4 = per_peer_header(*make_peer("10.0.0.1", 64500), true, kT0 + 42);
  EXPECT_EQ(v4.flags, 0);
  EXPECT_EQ(v4.peer_type, cbmp::PeerType::GlobalInstance);
  EXPECT_EQ(v4.peer_as, 64500U);
  EXPECT_EQ(v4.bgp_identifier, 0x0A000001U);
  EXPECT_EQ(v4.timestamp_microseconds, 42U);
  const auto v6 = per_peer_header(*make_peer("2001:db8::1", 64500), false, kT0);
  EXPECT_EQ(v6.flags, cbmp::peer_flag::kIpv6 | cbmp::peer_flag::kLegacyAsPath);
  EXPECT_EQ(v6.distinguisher, (std::array<std::uint8_t, 8>{}));
}

TEST(BmpEncode, PeerDownReasons) {
  const auto peer = make_peer("10.0.0.1", 64500);
  const auto h = per_peer_header(*peer, true, kT0);
  struct Case {
    ByteVector message;
    bool local;
    cbmp::PeerDownReason reason;
  };
  const std::vector<Case> cases = {
      {notification_message(6, 2), true, cbmp::PeerDownReason::LocalNotification},
      {notification_message(4, 0), false, cbmp::PeerDownReason::RemoteNotification},
      {{}, true, cbmp::PeerDownReason::LocalNoNotification},
      {{}, false, cbmp::PeerDownReason::RemoteNoNotification},
  };
  for (const auto& c : cases) {
    codec::wire::Writer w;
    ASSERT_TRUE(encode_peer_down(h, peer_down_record(kT0, peer, c.message, c.local), w));
    ByteVector keep;
    const auto down = std::get<cbmp::PeerDown>(round_trip(w, keep));
    EXPECT_EQ(down.reason, c.reason);
    if (!c.message.empty()) {
      ASSERT_TRUE(down.notification);
      EXPECT_EQ(down.notification->code, c.message[19]);
    } else if (c.local) {
      EXPECT_EQ(down.fsm_event, 0);
    }
  }
}

TEST(BmpEncode, TableUpdateWithAddPathAndTwoOctetAs) {
  bgp::ParseContext ctx;
  ctx.four_octet_as = false;
  ctx.set_add_path(bgp::kIpv4Unicast, true);
  std::vector<ByteVector> out;
  TablePacker packer(bgp::kIpv4Unicast, ctx, [&](std::span<const std::uint8_t> u) {
    out.emplace_back(u.begin(), u.end());
  });
  const auto attrs = rib_attributes(4200000001, false);
  packer.add(tests::prefix("192.0.2.0/24"), 7, attrs);
  packer.add(tests::prefix("198.51.100.0/24"), 9, attrs);
  packer.add(tests::prefix("203.0.113.0/24"), 1, rib_attributes(64501, false));
  packer.finish();
  ASSERT_EQ(out.size(), 2U);  // the first two share their attributes
  const auto u = bgp::parse_update(out[0], ctx);
  ASSERT_TRUE(u);
  EXPECT_EQ(tests::prefix_texts(u->nlri),
            (std::vector<std::string>{"192.0.2.0/24", "198.51.100.0/24"}));
  std::vector<std::uint32_t> ids;
  for (const auto& n : u->nlri) {
    ids.push_back(n.path_id);
  }
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{7, 9}));
  EXPECT_EQ(u->attributes.as_path.as_size(), 2);
  EXPECT_EQ(u->attributes.as_path.origin_as(), 23456U);
  EXPECT_EQ(u->attributes.as4_path.origin_as(), 4200000001U);
  EXPECT_EQ(u->reaction(), codec::Reaction::None);
  const auto v = bgp::parse_update(out[1], ctx);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->attributes.as_path.origin_as(), 64501U);
  EXPECT_TRUE(v->attributes.as4_path.empty());
}

TEST(BmpEncode, TableUpdatesSplitAtTheMessageSize) {
  bgp::ParseContext ctx;
  std::vector<ByteVector> out;
  TablePacker packer(bgp::kIpv6Unicast, ctx, [&](std::span<const std::uint8_t> u) {
    out.emplace_back(u.begin(), u.end());
  });
  const auto attrs = rib_attributes(64500, true);
  for (int i = 0; i < 1000; ++i) {
    packer.add(tests::prefix("2001:db8:" + std::to_string(i) + "::/48"), 0, attrs);
  }
  packer.finish();
  ASSERT_GT(out.size(), 1U);
  std::size_t n = 0;
  for (const auto& m : out) {
    EXPECT_LE(m.size(), 4096U);
    const auto u = bgp::parse_update(m, ctx);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->attributes.mp_reach.family, bgp::kIpv6Unicast);
    EXPECT_EQ(u->attributes.mp_reach.next_hop.global.to_string(), "2001:db8::1");
    n += u->attributes.mp_reach.nlri.count();
  }
  EXPECT_EQ(n, 1000U);
}

TEST(BmpEncode, TableGrouperGathersRoutesByPeerAndAttributeSet) {
  const ByteVector x = rib_attributes(64500, false);
  const ByteVector y = rib_attributes(64501, false);
  const ByteVector x_copy = x;  // equal bytes elsewhere: a set of its own
  TableGrouper g(100);
  const auto p = [](const char* s) { return *bgp::Prefix::parse(s); };
  g.add(0, x, p("10.0.0.0/24"), 0);
  g.add(0, y, p("10.0.1.0/24"), 0);
  g.add(1, x, p("10.0.2.0/24"), 0);  // another peer, same set: another group
  g.add(0, x, p("10.0.3.0/24"), 7);
  g.add(0, x_copy, p("10.0.4.0/24"), 0);
  g.add(0, y, p("10.0.5.0/24"), 0);
  EXPECT_FALSE(g.full());
  std::vector<std::string> out;
  g.drain([&](const TableGrouper::Group& grp, const TableGrouper::Entry& e) {
    out.push_back(std::to_string(grp.peer_index) +
                  (grp.attributes.data() == x.data()   ? " x "
                   : grp.attributes.data() == y.data() ? " y "
                                                       : " x' ") +
                  e.prefix.to_string() + "/" + std::to_string(e.path_id));
  });
  const std::vector<std::string> expected = {"0 x 10.0.0.0/24/0", "0 x 10.0.3.0/24/7",
                                             "0 y 10.0.1.0/24/0", "0 y 10.0.5.0/24/0",
                                             "1 x 10.0.2.0/24/0", "0 x' 10.0.4.0/24/0"};
  EXPECT_EQ(out, expected);
  // Empty after a drain, and full at its capacity.
  std::size_t n = 0;
  g.drain([&](const auto&, const auto&) { ++n; });
  EXPECT_EQ(n, 0U);
  // Past the index's first size (32,768 groups): 100,000 sets, two routes each, still grouped.
  const ByteVector many(100000, 0);
  TableGrouper big(1000000);
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < many.size(); ++i) {
      big.add(0, std::span<const std::uint8_t>(many).subspan(i, 1), p("10.0.0.0/24"),
              static_cast<std::uint32_t>(round));
    }
  }
  std::size_t routes = 0;
  bool grouped = true;
  const std::uint8_t* last = nullptr;
  big.drain([&](const TableGrouper::Group& grp, const TableGrouper::Entry& e) {
    const bool first = routes % 2 == 0;
    grouped = grouped && grp.routes == 2 && e.path_id == (first ? 0U : 1U) &&
              (first ? grp.attributes.data() != last : grp.attributes.data() == last);
    last = grp.attributes.data();
    ++routes;
  });
  EXPECT_EQ(routes, 200000U);
  EXPECT_TRUE(grouped);
  TableGrouper small(2);
  small.add(0, x, p("10.0.0.0/24"), 0);
  small.add(0, x, p("10.0.1.0/24"), 0);
  EXPECT_TRUE(small.full());
}

TEST(BmpEncode, StatisticsReport) {
  PeerCounts c;
  c.add(bgp::kIpv4Unicast, 3);
  c.add(bgp::kIpv6Unicast, 2);
  c.add(bgp::kIpv4Unicast, 1);
  c.duplicate_updates = 5;
  c.unknown_withdrawals = 7;
  c.treat_as_withdraw_updates = 2;
  c.treat_as_withdraw_prefixes = (std::uint64_t{1} << 32) + 9;  // a 32-bit counter wraps
  codec::wire::Writer w;
  ASSERT_TRUE(encode_statistics(per_peer_header(*make_peer("10.0.0.1", 64500), true, kT0), c, w));
  ByteVector keep;
  const auto r = std::get<cbmp::StatisticsReport>(round_trip(w, keep));
  std::map<int, std::uint64_t> values;
  for (const auto& s : r.stats) {
    values[static_cast<int>(s.type) * 10 +
           (s.kind == cbmp::StatKind::AfiSafiGauge64 ? static_cast<int>(s.family.afi) : 0)] =
        s.value;
  }
  EXPECT_EQ(values[70], 6U);
  EXPECT_EQ(values[91], 4U);
  EXPECT_EQ(values[92], 2U);
  EXPECT_EQ(values[0], 0U);
  EXPECT_EQ(values[130], 5U);
  EXPECT_EQ(values[20], 7U);
  EXPECT_EQ(values[110], 2U);
  EXPECT_EQ(values[120], 9U);
  EXPECT_EQ(r.stats.size(), 12U);  // 0, 2, 3, 4, 5, 6, 7, 9 x 2, 11, 12, 13
}

Options options(const std::string& yaml) {
  ExporterContext ctx;
  ctx.instance_name = "bmp";
  ctx.collector_name = "rrc99";
  ctx.config_file = "test.yaml";
  return parse_options(ctx, YAML::Load(yaml));
}

TEST(BmpConfig, Stations) {
  const auto o = options("type: bmp\nstations: [\"127.0.0.1:5000\", \"[::1]:11019\", \"st:1\"]\n");
  ASSERT_EQ(o.stations.size(), 3U);
  EXPECT_EQ(o.stations[1].host, "::1");
  EXPECT_EQ(o.stations[1].text(), "[::1]:11019");
  EXPECT_EQ(o.stats_interval.count(), 60);
  EXPECT_EQ(o.queue, 100000U);
  EXPECT_EQ(o.collector_name, "rrc99");
}

TEST(BmpConfig, ErrorsNameTheLine) {
  const auto fails = [](const std::string& yaml, const std::string& part, int line) {
    try {
      (void)options(yaml);
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_EQ(e.line(), line) << e.what();
    }
  };
  fails("type: bmp\n", "'stations' (\"host:port\" BMP stations to connect to) or 'listen'", 1);
  fails("type: bmp\nstations:\n  - 127.0.0.1:5000\n  - nohost\n", "'nohost' is not an address", 4);
  fails("type: bmp\nstations: [\"h:0\"]\n", "not an address", 2);
  fails("type: bmp\nlisten: [\"127.0.0.1\"]\n", "'127.0.0.1' is not an address", 2);
  fails("type: bmp\nlisten: [\"127.0.0.1:5000\"]\nmax_incoming: 0\n", "max_incoming", 3);
  fails("type: bmp\nstations: [\"h:1\"]\nqueue: 1\n", "queue", 3);
  fails("type: bmp\nstations: [\"h:1\"]\nstat_interval: 5\n", "stat_interval", 3);
}

}  // namespace
}  // namespace bgpscribe::exporters::bmp::test
