// The BMP exporter against a loopback station: what a connecting station gets, in order, and
// how the table and the live records join.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <array>
#include <chrono>
#include <map>
#include <set>

#include "codec/bgp/update.hpp"
#include "codec/bmp/context.hpp"
#include "exporters/bmp/listener.hpp"
#include "tests/exporters/bmp/test_util.hpp"

namespace bgpscribe::exporters::bmp::test {
namespace {

using namespace std::chrono_literals;
using cbmp::MessageType;
using tests::make_peer;
using tests::message_record;
using tests::wait_until;

// The announced prefixes of every Route Monitoring message, as "peer prefix", decoded with
// the context of the peer's Peer Up; End-of-RIB markers as "peer eor family-afi".
std::vector<std::string> routes_of(const Stream& s) {
  std::vector<std::string> out;
  std::map<std::string, bgp::ParseContext> contexts;
  for (const auto& m : s.messages) {
    if (const auto* up = std::get_if<cbmp::PeerUp>(&m)) {
      auto ctx = cbmp::route_monitoring_context(*up, up->peer);
      EXPECT_TRUE(ctx);
      contexts[up->peer.peer_address().to_string()] = ctx ? *ctx : bgp::ParseContext{};
    }
    const auto* rm = std::get_if<cbmp::RouteMonitoring>(&m);
    if (rm == nullptr) {
      continue;
    }
    const auto peer = rm->peer.peer_address().to_string();
    EXPECT_TRUE(contexts.contains(peer)) << "Route Monitoring before Peer Up for " << peer;
    const auto u = bgp::parse_update(rm->update, contexts[peer]);
    EXPECT_TRUE(u) << peer;
    if (!u) {
      continue;
    }
    if (u->end_of_rib) {
      out.push_back(peer + " eor " + std::to_string(static_cast<int>(u->end_of_rib_family.afi)));
      continue;
    }
    for (const auto* nlri : {&u->nlri, &u->attributes.mp_reach.nlri}) {
      for (const auto& p : tests::prefix_texts(*nlri)) {
        out.push_back(peer);
        out.back().append(" ").append(p);
      }
    }
  }
  return out;
}

TEST(BmpExporter, StationGetsPeerUpTableEndOfRibLiveAndPeerDown) {
  LoopbackStation station;
  auto exporter = make_exporter(station.port());
  auto a = make_peer("10.0.0.1", 64500, "10.0.0.254", 64496, 0x0A000001, 1);
  auto b = make_peer("2001:db8::2", 4200000001, "2001:db8::fe", 64496, 0x0A000002, 2);
  exporter->start();
  exporter->accept(peer_up_record(kT0, a, true));
  exporter->accept(peer_up_record(kT0 + 1, b, false));  // a 2-octet AS session
  // Before the station has its table, live records are not for it: the table has them.
  exporter->accept(message_record(kT0 + 2, a, ipv4_update("192.0.2.0/24")));
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  // Between the request and the snapshot: in the snapshot, so not sent live.
  exporter->accept(message_record(kT0 + 3, a, ipv4_update("198.51.100.0/24")));

  auto snap = std::make_shared<TestSnapshot>(kT0 + 4);
  const auto ia = snap->add_peer(a);
  const auto ib = snap->add_peer(b);
  snap->add_route(bgp::kIpv4Unicast, "192.0.2.0/24", ia, 0, rib_attributes(64500, false));
  snap->add_route(bgp::kIpv4Unicast, "198.51.100.0/24", ia, 0, rib_attributes(64500, false));
  snap->add_route(bgp::kIpv6Unicast, "2001:db8:1::/48", ib, 0, rib_attributes(4200000001, true));
  exporter->accept(snapshot_record(snap));

  exporter->accept(message_record(kT0 + 5, a, ipv4_update("203.0.113.0/24")));
  exporter->accept(peer_down_record(kT0 + 6, b, notification_message(6, 2), false));
  exporter->accept(peer_down_record(kT0 + 7, a, {}, false));
  exporter->flush(kT0 + 8);
  exporter->stop();
  ASSERT_TRUE(wait_until([&] { return station.closed() == 1; }, 10s));

  const auto s = parse_stream(station.stream(0));
  ASSERT_TRUE(s->clean);
  const std::vector<MessageType> expected = {
      MessageType::Initiation,      MessageType::PeerUp,          MessageType::PeerUp,
      MessageType::RouteMonitoring, MessageType::RouteMonitoring,  // A's two routes, B's one
      MessageType::RouteMonitoring,                                // End-of-RIB: A IPv4,
      MessageType::RouteMonitoring, MessageType::RouteMonitoring,  // B IPv4 and IPv6
      MessageType::RouteMonitoring,                                // live
      MessageType::PeerDown,        MessageType::PeerDown,        MessageType::Termination};
  EXPECT_EQ(types_of(*s), expected);
  const std::vector<std::string> routes = {
      "10.0.0.1 192.0.2.0/24",  "10.0.0.1 198.51.100.0/24", "2001:db8::2 2001:db8:1::/48",
      "10.0.0.1 eor 1",         "2001:db8::2 eor 1",        "2001:db8::2 eor 2",
      "10.0.0.1 203.0.113.0/24"};
  EXPECT_EQ(routes_of(*s), routes);

  const auto& init = std::get<cbmp::Initiation>(s->messages[0]);
  ASSERT_EQ(init.information.size(), 2U);
  EXPECT_EQ(std::string(init.information[0].value.begin(), init.information[0].value.end()),
            "rrc99");
  const auto& up_b = std::get<cbmp::PeerUp>(s->messages[2]);
  EXPECT_TRUE(up_b.peer.ipv6());
  EXPECT_TRUE(up_b.peer.legacy_as_path());
  EXPECT_FALSE(up_b.peer.post_policy());
  EXPECT_EQ(up_b.peer.peer_as, 4200000001U);
  EXPECT_EQ(up_b.local_ip().to_string(), "2001:db8::fe");
  // B's table route, on a 2-octet session: AS_TRANS in AS_PATH, the real AS in AS4_PATH.
  const auto& rm_b = std::get<cbmp::RouteMonitoring>(s->messages[4]);
  bgp::ParseContext two;
  two.four_octet_as = false;
  const auto u = bgp::parse_update(rm_b.update, two);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->attributes.as_path.origin_as(), 23456U);
  EXPECT_EQ(u->attributes.as4_path.origin_as(), 4200000001U);
  // The live UPDATE is the received one, byte for byte, with the record's time.
  const auto& live = std::get<cbmp::RouteMonitoring>(s->messages[8]);
  EXPECT_TRUE(cbmp::same_bytes(live.update, ipv4_update("203.0.113.0/24")));
  EXPECT_EQ(live.peer.timestamp_seconds, static_cast<std::uint32_t>(kT0 / 1'000'000));
  EXPECT_EQ(live.peer.timestamp_microseconds, 5U);
  EXPECT_FALSE(live.peer.ipv6());
  EXPECT_FALSE(live.peer.legacy_as_path());
  const auto& down_b = std::get<cbmp::PeerDown>(s->messages[9]);
  EXPECT_EQ(down_b.reason, cbmp::PeerDownReason::RemoteNotification);
  ASSERT_TRUE(down_b.notification);
  EXPECT_EQ(down_b.notification->code, 6);
  EXPECT_EQ(std::get<cbmp::PeerDown>(s->messages[10]).reason,
            cbmp::PeerDownReason::RemoteNoNotification);
  EXPECT_EQ(std::get<cbmp::Termination>(s->messages[11]).reason(),
            cbmp::TerminationReason::AdministrativelyClosed);

  std::vector<Metric> metrics;
  exporter->metrics(metrics);
  const auto value = [&](const std::string& n) {
    for (const auto& m : metrics) {
      if (m.name == n) {
        return m.value;
      }
    }
    return -1.0;
  };
  EXPECT_EQ(value("station0_messages_sent"), 12);
  EXPECT_EQ(value("table_routes"), 3);
  EXPECT_EQ(value("station0_tables_sent"), 1);
}

// A table, End-of-RIB, a live UPDATE and a Peer Down of one peer, on a fresh station.
std::unique_ptr<Stream> one_peer_stream(const PeerInfoPtr& p,
                                        const std::vector<bgp::AfiSafi>& families,
                                        const std::vector<std::string>& v4_routes) {
  LoopbackStation station;
  auto exporter = make_exporter(station.port());
  exporter->start();
  exporter->accept(peer_up_record(kT0, p, true, false, families));
  EXPECT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  auto snap = std::make_shared<TestSnapshot>(kT0 + 1);
  const auto i = snap->add_peer(p);
  for (const auto& r : v4_routes) {
    snap->add_route(bgp::kIpv4Unicast, r, i, 0, rib_attributes(p->peer_as, false));
  }
  exporter->accept(snapshot_record(snap));
  exporter->accept(message_record(kT0 + 2, p, ipv4_update("203.0.113.0/24")));
  exporter->accept(peer_down_record(kT0 + 3, p, {}, false));
  exporter->stop();
  EXPECT_TRUE(wait_until([&] { return station.closed() == 1; }, 10s));
  auto s = parse_stream(station.stream(0));
  EXPECT_TRUE(s->clean);
  return s;
}

// Every per-peer header the exporter sends, in order.
std::vector<cbmp::PerPeerHeader> headers_of(const Stream& s) {
  std::vector<cbmp::PerPeerHeader> out;
  for (const auto& m : s.messages) {
    std::visit(
        [&](const auto& x) {
          if constexpr (requires { x.peer.peer_as; }) {
            out.push_back(x.peer);
          }
        },
        m);
  }
  return out;
}

TEST(BmpExporter, PeerOfABmpRouterKeepsItsPeerTypeDistinguisherAndLFlag) {
  auto info = std::make_shared<PeerInfo>(*make_peer("10.0.0.7", 64507, "10.0.0.254"));
  info->router = "r1";
  info->router_address = *bgp::IpAddress::parse("192.0.2.99");
  info->bmp_peer_type = 1;                   // RD instance
  info->distinguisher = 0x0001FDE800000064;  // RD 0:65000:100
  info->post_policy = true;
  const auto s = one_peer_stream(info, {}, {"192.0.2.0/24"});
  const std::vector<MessageType> expected = {
      MessageType::Initiation,      MessageType::PeerUp,          MessageType::RouteMonitoring,
      MessageType::RouteMonitoring, MessageType::RouteMonitoring, MessageType::PeerDown,
      MessageType::Termination};
  EXPECT_EQ(types_of(*s), expected);
  const auto headers = headers_of(*s);
  ASSERT_EQ(headers.size(), 5U);  // Peer Up, table route, End-of-RIB, live, Peer Down
  const std::array<std::uint8_t, 8> rd = {0x00, 0x01, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x64};
  for (const auto& h : headers) {
    EXPECT_EQ(h.peer_type, cbmp::PeerType::RdInstance);
    EXPECT_EQ(h.distinguisher, rd);
    EXPECT_TRUE(h.post_policy());
    EXPECT_FALSE(h.ipv6());
    EXPECT_FALSE(h.legacy_as_path());
    EXPECT_EQ(h.peer_as, 64507U);
  }

  // The collector's own session: global instance, distinguisher 0, pre-policy.
  const auto own = one_peer_stream(make_peer("10.0.0.8", 64508), {}, {"192.0.2.0/24"});
  for (const auto& h : headers_of(*own)) {
    EXPECT_EQ(h.peer_type, cbmp::PeerType::GlobalInstance);
    EXPECT_EQ(h.distinguisher, (std::array<std::uint8_t, 8>{}));
    EXPECT_FALSE(h.post_policy());
  }

  // Loc-RIB (RFC 9069): no V, A or L; 0x80 would be F.
  auto loc = std::make_shared<PeerInfo>(*make_peer("2001:db8::9", 64509, "2001:db8::fe"));
  loc->router = "r1";
  loc->bmp_peer_type = 3;
  loc->post_policy = true;
  const auto l = one_peer_stream(loc, {}, {});
  for (const auto& h : headers_of(*l)) {
    EXPECT_EQ(h.peer_type, cbmp::PeerType::LocRibInstance);
    EXPECT_EQ(h.flags, 0);
  }
}

TEST(BmpExporter, EndOfRibForEveryNegotiatedFamily) {
  // Both OPENs list IPv4 and IPv6 unicast and IPv4 multicast; routes only in IPv4 unicast.
  const auto s = one_peer_stream(make_peer("10.0.0.1", 64500),
                                 {bgp::kIpv4Unicast, bgp::kIpv6Unicast, bgp::kIpv4Multicast},
                                 {"192.0.2.0/24"});
  const std::vector<std::string> routes = {"10.0.0.1 192.0.2.0/24", "10.0.0.1 eor 1",
                                           "10.0.0.1 eor 1", "10.0.0.1 eor 2",
                                           "10.0.0.1 203.0.113.0/24"};
  EXPECT_EQ(routes_of(*s), routes);
  // The End-of-RIB families exactly: IPv4 unicast, IPv4 multicast, IPv6 unicast.
  std::vector<bgp::AfiSafi> eors;
  for (const auto& m : s->messages) {
    if (const auto* rm = std::get_if<cbmp::RouteMonitoring>(&m)) {
      const auto u = bgp::parse_update(rm->update, bgp::ParseContext{});
      if (u && u->end_of_rib) {
        eors.push_back(u->end_of_rib_family);
      }
    }
  }
  const std::vector<bgp::AfiSafi> expected = {bgp::kIpv4Unicast, bgp::kIpv4Multicast,
                                              bgp::kIpv6Unicast};
  EXPECT_EQ(eors, expected);

  // No table routes at all: still one End-of-RIB per negotiated family (IPv4 unicast here).
  const auto empty = one_peer_stream(make_peer("10.0.0.2", 64501), {}, {});
  const std::vector<std::string> none = {"10.0.0.2 eor 1", "10.0.0.2 203.0.113.0/24"};
  EXPECT_EQ(routes_of(*empty), none);
}

TEST(BmpExporter, ALargeTableGoesOutInChunksThenLiveJoins) {
  // 60,000 routes with attribute sets of their own: one message each, ~7 MB, two chunks.
  LoopbackStation station;
  auto exporter = make_exporter(station.port());
  auto a = make_peer("10.0.0.1", 64500);
  exporter->start();
  exporter->accept(peer_up_record(kT0, a, true));
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  auto snap = std::make_shared<TestSnapshot>(kT0 + 1);
  const auto ia = snap->add_peer(a);
  constexpr int kRoutes = 60000;
  for (int i = 0; i < kRoutes; ++i) {
    const auto prefix = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    snap->add_route(bgp::kIpv4Unicast, prefix, ia, 0,
                    rib_attributes(100000 + static_cast<std::uint32_t>(i), false));
  }
  exporter->accept(snapshot_record(snap));
  for (int i = 0; i < 3; ++i) {
    exporter->accept(message_record(kT0 + 2, a, ipv4_update("203.0.113.0/24")));
  }
  exporter->stop();
  ASSERT_TRUE(wait_until([&] { return station.closed() == 1; }, 20s));
  const auto s = parse_stream(station.stream(0));
  ASSERT_TRUE(s->clean);
  ASSERT_EQ(s->messages.size(), 1U + 1 + kRoutes + 1 + 3 + 1);
  const auto routes = routes_of(*s);
  ASSERT_EQ(routes.size(), static_cast<std::size_t>(kRoutes + 1 + 3));
  EXPECT_EQ(routes[0], "10.0.0.1 10.0.0.0/24");
  EXPECT_EQ(routes[kRoutes - 1], "10.0.0.1 10.234.95.0/24");
  EXPECT_EQ(routes[kRoutes], "10.0.0.1 eor 1");
  EXPECT_EQ(routes.back(), "10.0.0.1 203.0.113.0/24");
  EXPECT_GT(s->bytes.size(), std::size_t{4} << 20);
}

TEST(BmpExporter, StatisticsCountDuplicateUpdates) {
  LoopbackStation station;
  auto exporter = make_exporter(station.port(), 100000, 1);
  auto a = make_peer("10.0.0.1", 64500);
  exporter->start();
  exporter->accept(peer_up_record(kT0, a, true));
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  auto snap = std::make_shared<TestSnapshot>(kT0 + 1);
  const auto ia = snap->add_peer(a);
  snap->add_route(bgp::kIpv4Unicast, "192.0.2.0/24", ia, 0, rib_attributes(64500, false));
  exporter->accept(snapshot_record(snap));
  // The same UPDATE three times in a row (2 duplicates), another, then the first again (not a
  // duplicate: not the one right before).
  for (const auto* p : {"203.0.113.0/24", "203.0.113.0/24", "203.0.113.0/24", "198.51.100.0/24",
                        "203.0.113.0/24"}) {
    exporter->accept(message_record(kT0 + 2, a, ipv4_update(p)));
  }
  exporter->flush(kT0 + 3);
  exporter->flush(kT0 + 3 + 1'000'000);  // a Statistics Report is due: it asks for a snapshot
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  auto stats_snap = std::make_shared<TestSnapshot>(kT0 + 1'000'004);
  const auto is = stats_snap->add_peer(a);
  // What the RIB counted for the peer since its session came up (types 2, 11, 12).
  stats_snap->peer(is).unknown_withdrawals = 4;
  stats_snap->peer(is).treat_as_withdraw_updates = 1;
  stats_snap->peer(is).treat_as_withdraw_prefixes = 3;
  stats_snap->add_route(bgp::kIpv4Unicast, "192.0.2.0/24", is, 0, rib_attributes(64500, false));
  exporter->accept(snapshot_record(stats_snap));
  exporter->stop();
  ASSERT_TRUE(wait_until([&] { return station.closed() == 1; }, 10s));
  const auto s = parse_stream(station.stream(0));
  ASSERT_TRUE(s->clean);
  const cbmp::StatisticsReport* report = nullptr;
  for (const auto& m : s->messages) {
    if (const auto* r = std::get_if<cbmp::StatisticsReport>(&m)) {
      report = r;
    }
  }
  ASSERT_NE(report, nullptr);
  std::map<cbmp::StatType, std::uint64_t> values;
  for (const auto& st : report->stats) {
    if (st.kind != cbmp::StatKind::AfiSafiGauge64) {
      values[st.type] = st.value;
    }
  }
  EXPECT_EQ(values[cbmp::StatType::DuplicateUpdates], 2U);
  EXPECT_EQ(values[cbmp::StatType::AdjRibInRoutes], 1U);
  EXPECT_EQ(values[cbmp::StatType::DuplicateWithdraws], 4U);
  EXPECT_EQ(values[cbmp::StatType::TreatAsWithdrawUpdates], 1U);
  EXPECT_EQ(values[cbmp::StatType::TreatAsWithdrawPrefixes], 3U);
}

TEST(BmpExporter, StationDroppedForAFullQueueGetsTheTableAgain) {
  LoopbackStation station;
  auto exporter = make_exporter(station.port(), 16);
  auto a = make_peer("10.0.0.1", 64500, "10.0.0.254", 64496, 0x0A000001, 1);
  exporter->start();
  exporter->accept(peer_up_record(kT0, a, true));
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  auto snap = std::make_shared<TestSnapshot>(kT0 + 1);
  snap->add_route(bgp::kIpv4Unicast, "192.0.2.0/24", snap->add_peer(a), 0,
                  rib_attributes(64500, false));
  exporter->accept(snapshot_record(snap));

  // A station that reads nothing: kernel buffers fill, then the queue of 16, then it is dropped.
  station.pause(true);
  const auto overflows = [&] {
    std::vector<Metric> m;
    exporter->metrics(m);
    for (const auto& x : m) {
      if (x.name == "station0_overflows") {
        return x.value;
      }
    }
    return 0.0;
  };
  const auto big = ipv4_update("198.51.100.0/24", 64500, 3900);
  for (int i = 0; i < 20000 && overflows() == 0; ++i) {
    exporter->accept(message_record(kT0 + 2, a, big));
  }
  EXPECT_EQ(overflows(), 1);
  station.pause(false);

  // It reconnects (after the 1 s backoff), asks for a table and gets the whole one again.
  ASSERT_TRUE(wait_until([&] { return station.connections() == 2; }, 20s));
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  auto snap2 = std::make_shared<TestSnapshot>(kT0 + 3);
  const auto i2 = snap2->add_peer(a);
  snap2->add_route(bgp::kIpv4Unicast, "192.0.2.0/24", i2, 0, rib_attributes(64500, false));
  snap2->add_route(bgp::kIpv4Unicast, "198.51.100.0/24", i2, 0, rib_attributes(64500, false));
  exporter->accept(snapshot_record(snap2));
  exporter->stop();
  ASSERT_TRUE(wait_until([&] { return station.closed() == 2; }, 10s));
  const auto s = parse_stream(station.stream(1));
  ASSERT_TRUE(s->clean);
  const std::vector<MessageType> expected = {MessageType::Initiation, MessageType::PeerUp,
                                             MessageType::RouteMonitoring,
                                             MessageType::RouteMonitoring,  // EoR
                                             MessageType::Termination};
  EXPECT_EQ(types_of(*s), expected);
  const std::vector<std::string> routes = {"10.0.0.1 192.0.2.0/24", "10.0.0.1 198.51.100.0/24",
                                           "10.0.0.1 eor 1"};
  EXPECT_EQ(routes_of(*s), routes);
}

// Stations that connect to the exporter (`listen`): each gets what a configured one gets on
// connect, its own table joined with the live messages; one past max_incoming is refused and
// counted; a station that leaves frees its place.
TEST(BmpExporter, StationsConnectingInGetTheirOwnTableThenLive) {
  ExporterContext ctx;
  ctx.instance_name = "bmp";
  ctx.collector_name = "rrc99";
  ctx.config_file = "test.yaml";
  auto o = parse_options(ctx, YAML::Load("type: bmp\nlisten: [\"127.0.0.1:1\"]\n"
                                         "max_incoming: 2\nstats_interval: 0\n"));
  ASSERT_EQ(o.listen.size(), 1U);
  EXPECT_TRUE(o.stations.empty());
  o.listen[0].port = "0";  // any free port
  auto exporter = std::make_unique<BmpExporter>("bmp", o);
  exporter->start();
  ASSERT_EQ(exporter->listen_ports().size(), 1U);
  const auto port = exporter->listen_ports()[0];
  auto a = make_peer("10.0.0.1", 64500, "10.0.0.254", 64496, 0x0A000001, 1);
  exporter->accept(peer_up_record(kT0, a, true));
  exporter->accept(message_record(kT0 + 1, a, ipv4_update("192.0.2.0/24")));

  const auto metric = [&](const std::string& name) {
    exporter->flush(kT0);  // takes stations in and out, and makes the metrics
    std::vector<Metric> m;
    exporter->metrics(m);
    for (const auto& x : m) {
      if (x.name == name) {
        return x.value;
      }
    }
    return -1.0;
  };
  const auto table = [&](std::int64_t t, const std::vector<const char*>& prefixes) {
    auto snap = std::make_shared<TestSnapshot>(t);
    const auto ia = snap->add_peer(a);
    for (const auto* p : prefixes) {
      snap->add_route(bgp::kIpv4Unicast, p, ia, 0, rib_attributes(64500, false));
    }
    exporter->accept(snapshot_record(snap));
  };

  ConnectingStation first(port);
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  table(kT0 + 2, {"192.0.2.0/24"});
  exporter->accept(message_record(kT0 + 3, a, ipv4_update("198.51.100.0/24")));
  exporter->flush(kT0 + 3);

  ConnectingStation second(port);
  ASSERT_TRUE(wait_until([&] { return exporter->take_snapshot_request(); }, 10s));
  table(kT0 + 4, {"192.0.2.0/24", "198.51.100.0/24"});
  ASSERT_TRUE(wait_until([&] { return metric("incoming_connected") == 2; }, 10s));

  ConnectingStation third(port);  // past max_incoming: closed at once
  ASSERT_TRUE(wait_until([&] { return third.closed(); }, 10s));
  EXPECT_EQ(metric("incoming_refused"), 1);
  EXPECT_TRUE(third.stream().empty());

  exporter->accept(message_record(kT0 + 5, a, ipv4_update("203.0.113.0/24")));
  exporter->stop();
  ASSERT_TRUE(wait_until([&] { return first.closed() && second.closed(); }, 10s));
  EXPECT_EQ(metric("incoming_accepted"), 2);

  const std::vector<MessageType> live_joined = {
      MessageType::Initiation,      MessageType::PeerUp,          MessageType::RouteMonitoring,
      MessageType::RouteMonitoring, MessageType::RouteMonitoring, MessageType::RouteMonitoring,
      MessageType::Termination};
  const auto s1 = parse_stream(first.stream());
  ASSERT_TRUE(s1->clean);
  EXPECT_EQ(types_of(*s1), live_joined);
  EXPECT_EQ(routes_of(*s1),
            (std::vector<std::string>{"10.0.0.1 192.0.2.0/24", "10.0.0.1 eor 1",
                                      "10.0.0.1 198.51.100.0/24", "10.0.0.1 203.0.113.0/24"}));
  const auto s2 = parse_stream(second.stream());
  ASSERT_TRUE(s2->clean);
  // Its table's two routes share their attributes: one Route Monitoring message.
  EXPECT_EQ(types_of(*s2),
            (std::vector<MessageType>{MessageType::Initiation, MessageType::PeerUp,
                                      MessageType::RouteMonitoring, MessageType::RouteMonitoring,
                                      MessageType::RouteMonitoring, MessageType::Termination}));
  EXPECT_EQ(routes_of(*s2),
            (std::vector<std::string>{"10.0.0.1 192.0.2.0/24", "10.0.0.1 198.51.100.0/24",
                                      "10.0.0.1 eor 1", "10.0.0.1 203.0.113.0/24"}));
}

TEST(BmpExporter, ATakenListenPortStopsTheStartNamingIt) {
  LoopbackStation taken;
  ExporterContext ctx;
  ctx.instance_name = "bmp";
  ctx.collector_name = "rrc99";
  ctx.config_file = "test.yaml";
  const auto address = "127.0.0.1:" + std::to_string(taken.port());
  auto o = parse_options(ctx, YAML::Load("type: bmp\nlisten: [\"" + address + "\"]\n"));
  BmpExporter exporter("bmp", o);
  try {
    exporter.start();
    FAIL() << "started on a taken port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on " + address), std::string::npos)
        << e.what();
  }
}

// Out of file descriptors, a station's connection cannot be accepted: counted (and logged),
// the listener pauses instead of spinning on it, and takes it once a descriptor is free.
TEST(StationListener, AConnectionThatCannotBeAcceptedIsCountedThenTaken) {
  StationListener listener({StationAddress{"127.0.0.1", "0"}});
  std::atomic<int> accepted{0};
  listener.start([&](int fd, const StationAddress& /*from*/) {
    ::close(fd);
    ++accepted;
  });
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  // The client's socket first, its connect after the limit: the listener must not take the
  // connection before the limit is there.
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  // Every descriptor below the lowest free one is taken: a limit there leaves none.
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(listener.ports().at(0));
  const bool connected =
      ::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;  // NOLINT
  const bool failed = wait_until([&] { return listener.accept_failures() >= 1; }, 5s);
  std::this_thread::sleep_for(300ms);
  const auto failures = listener.accept_failures();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_TRUE(connected);
  EXPECT_TRUE(failed);
  EXPECT_EQ(accepted.load(), 0);
  // Paused between tries: a few in 300 ms, not thousands.
  EXPECT_LE(failures, 10U);
  EXPECT_TRUE(wait_until([&] { return accepted.load() == 1; }, 5s));
  ::close(client);
  listener.stop();
}

}  // namespace
}  // namespace bgpscribe::exporters::bmp::test
