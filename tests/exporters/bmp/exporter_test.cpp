// The BMP exporter against a loopback station: what a connecting station gets, in order, and
// how the table and the live records join.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "codec/bgp/update.hpp"
#include "codec/bmp/context.hpp"
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
    for (const auto& p : tests::prefix_texts(u->nlri)) {
      out.push_back(peer + " " + p);
    }
    for (const auto& p : tests::prefix_texts(u->attributes.mp_reach.nlri)) {
      out.push_back(peer + " " + p);
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
      MessageType::RouteMonitoring, MessageType::RouteMonitoring,  // End-of-RIB x 2 families
      MessageType::RouteMonitoring, MessageType::RouteMonitoring,  // x 2 peers
      MessageType::RouteMonitoring,                                // live
      MessageType::PeerDown,        MessageType::PeerDown,        MessageType::Termination};
  EXPECT_EQ(types_of(*s), expected);
  const std::vector<std::string> routes = {
      "10.0.0.1 192.0.2.0/24", "10.0.0.1 198.51.100.0/24", "2001:db8::2 2001:db8:1::/48",
      "10.0.0.1 eor 1",        "10.0.0.1 eor 2",           "2001:db8::2 eor 1",
      "2001:db8::2 eor 2",     "10.0.0.1 203.0.113.0/24"};
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
  const auto& live = std::get<cbmp::RouteMonitoring>(s->messages[9]);
  EXPECT_TRUE(cbmp::same_bytes(live.update, ipv4_update("203.0.113.0/24")));
  EXPECT_EQ(live.peer.timestamp_seconds, static_cast<std::uint32_t>(kT0 / 1'000'000));
  EXPECT_EQ(live.peer.timestamp_microseconds, 5U);
  EXPECT_FALSE(live.peer.ipv6());
  EXPECT_FALSE(live.peer.legacy_as_path());
  const auto& down_b = std::get<cbmp::PeerDown>(s->messages[10]);
  EXPECT_EQ(down_b.reason, cbmp::PeerDownReason::RemoteNotification);
  ASSERT_TRUE(down_b.notification);
  EXPECT_EQ(down_b.notification->code, 6);
  EXPECT_EQ(std::get<cbmp::PeerDown>(s->messages[11]).reason,
            cbmp::PeerDownReason::RemoteNoNotification);
  EXPECT_EQ(std::get<cbmp::Termination>(s->messages[12]).reason(),
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
  EXPECT_EQ(value("station0_messages_sent"), 13);
  EXPECT_EQ(value("table_routes"), 3);
  EXPECT_EQ(value("station0_tables_sent"), 1);
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

}  // namespace
}  // namespace bgpscribe::exporters::bmp::test
