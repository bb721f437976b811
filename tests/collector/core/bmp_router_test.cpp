// The BMP station input's per-router state machine (collector/bmp/router.hpp): which sources a
// router's messages make, and which messages close its connection.
#include "collector/bmp/router.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bmp/message.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::collector::bmp {
namespace {

namespace bgp = codec::bgp;
namespace wire_bmp = codec::bmp;
using Buffer = std::vector<std::uint8_t>;

struct Event {
  std::string kind;  // up, route, down
  std::uint32_t id = 0;
  std::string name;
  bool post_policy = false;
  bool four_octet_as = false;
  std::string reason;
  std::size_t notification_size = 0;
  bool local = false;
};

class Recorder : public RouterEvents {
 public:
  std::uint32_t source_id(const exporters::PeerInfo& info) override {
    const auto key =
        info.router + " " + info.peer_address.to_string() + (info.post_policy ? " post" : " pre");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) {
        return static_cast<std::uint32_t>(i + 1);
      }
    }
    keys.push_back(key);
    return static_cast<std::uint32_t>(keys.size());
  }
  void source_up(const Source& s, std::int64_t /*time_us*/) override {
    events.push_back({"up", s.info->id, s.info->name, s.info->post_policy, false, {}, 0, false});
    last_info = *s.info;
  }
  void route_monitoring(const Source& s, std::span<const std::uint8_t> /*update*/,
                        const bgp::ParseContext& ctx, std::int64_t /*time_us*/) override {
    events.push_back(
        {"route", s.info->id, s.info->name, s.info->post_policy, ctx.four_octet_as, {}, 0, false});
  }
  void source_down(const Source& s, std::int64_t /*time_us*/, const std::string& reason,
                   std::span<const std::uint8_t> notification, bool local) override {
    events.push_back({"down", s.info->id, s.info->name, s.info->post_policy, false, reason,
                      notification.size(), local});
  }
  std::vector<std::string> keys;
  std::vector<Event> events;
  exporters::PeerInfo last_info;
};

Buffer encode(const wire_bmp::Message& m) {
  codec::wire::Writer w;
  EXPECT_TRUE(wire_bmp::encode(m, w));
  return w.take();
}

Buffer open_bytes(std::uint32_t as, std::uint32_t id) {
  bgp::Open o;
  o.my_as = static_cast<std::uint16_t>(as > 0xffff ? 23456 : as);
  o.hold_time = 90;
  o.bgp_identifier = id;
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv4Unicast}));
  o.add_capability(bgp::Capability::of(bgp::FourOctetAsCapability{as}));
  codec::wire::Writer w;
  EXPECT_TRUE(bgp::encode_open(o, w));
  return w.take();
}

wire_bmp::PerPeerHeader header(const char* address, std::uint32_t as, std::uint32_t id) {
  wire_bmp::PerPeerHeader h;
  h.set_peer_address(tests::address(address));
  h.peer_as = as;
  h.bgp_identifier = id;
  return h;
}

Buffer initiation() {
  wire_bmp::Initiation m;
  const std::string name = "edge1";
  m.information.push_back(
      {static_cast<std::uint16_t>(wire_bmp::InformationType::SysName),
       codec::wire::Bytes(reinterpret_cast<const std::uint8_t*>(name.data()),  // NOLINT
                          name.size())});
  return encode(m);
}

// Peer Up of `h`; the OPENs live in `keep` (the message holds spans into them).
Buffer peer_up(const wire_bmp::PerPeerHeader& h, std::uint32_t open_as, std::vector<Buffer>& keep) {
  keep.push_back(open_bytes(65000, 0x0a000001));
  keep.push_back(open_bytes(open_as, h.bgp_identifier));
  wire_bmp::PeerUp m;
  m.peer = h;
  m.local_address[15] = 1;
  m.local_port = 179;
  m.remote_port = 40000;
  m.sent_open = keep[keep.size() - 2];
  m.received_open = keep.back();
  return encode(m);
}

Buffer route(const wire_bmp::PerPeerHeader& h, const Buffer& update) {
  wire_bmp::RouteMonitoring m;
  m.peer = h;
  m.update = update;
  return encode(m);
}

class BmpRouter : public ::testing::Test {
 protected:
  Recorder events;
  Router router{"edge1", tests::address("192.0.2.9"), events};
  std::vector<Buffer> keep;
  Buffer update = tests::update_message({}, {}, {});  // an End-of-RIB

  std::optional<std::string> feed(const Buffer& m) { return router.handle(m, 1'000'000); }
};

TEST_F(BmpRouter, APeerUpMakesASourceWithTheMonitoredSessionAndTheRouter) {
  ASSERT_FALSE(feed(initiation()));
  EXPECT_EQ(router.sys_name(), "edge1");
  const auto h = header("198.51.100.7", 4200000001, 0xc6336407);
  ASSERT_FALSE(feed(peer_up(h, 4200000001, keep)));
  ASSERT_EQ(events.events.size(), 1U);
  EXPECT_EQ(events.events[0].kind, "up");
  const auto& info = events.last_info;
  EXPECT_EQ(info.router, "edge1");
  EXPECT_EQ(info.router_address, tests::address("192.0.2.9"));
  EXPECT_EQ(info.name, "edge1 198.51.100.7");
  EXPECT_EQ(info.peer_address, tests::address("198.51.100.7"));
  EXPECT_EQ(info.peer_as, 4200000001U);
  EXPECT_EQ(info.local_as, 65000U);
  EXPECT_EQ(info.peer_bgp_id, 0xc6336407U);
  EXPECT_EQ(info.local_bgp_id, 0x0a000001U);
  EXPECT_EQ(info.local_address, tests::address("0.0.0.1"));
  EXPECT_EQ(info.peer_port, 40000);
  EXPECT_EQ(info.local_port, 179);
  EXPECT_FALSE(info.post_policy);
  EXPECT_EQ(router.peers_up(), 1U);
}

TEST_F(BmpRouter, PostPolicyRoutesAreASecondSourceOfThePeer) {
  ASSERT_FALSE(feed(initiation()));
  auto h = header("198.51.100.7", 64500, 7);
  ASSERT_FALSE(feed(peer_up(h, 64500, keep)));
  ASSERT_FALSE(feed(route(h, update)));
  auto post = h;
  post.flags |= wire_bmp::peer_flag::kPostPolicy;
  ASSERT_FALSE(feed(route(post, update)));
  ASSERT_FALSE(feed(route(post, update)));
  auto legacy = h;
  legacy.flags |= wire_bmp::peer_flag::kLegacyAsPath;
  ASSERT_FALSE(feed(route(legacy, update)));
  auto out = h;
  out.flags |= wire_bmp::peer_flag::kAdjRibOut;
  ASSERT_FALSE(feed(route(out, update)));  // Adj-RIB-Out: counted, not archived
  EXPECT_EQ(router.stats().adj_rib_out, 1U);

  std::vector<std::string> seen;
  for (const auto& e : events.events) {
    seen.push_back(e.kind + " " + std::to_string(e.id) + (e.post_policy ? " post" : " pre") +
                   (e.kind == "route" ? (e.four_octet_as ? " as4" : " as2") : ""));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"up 1 pre", "route 1 pre as4", "up 2 post",
                                      "route 2 post as4", "route 2 post as4", "route 1 pre as2"}));

  // A Peer Down with a NOTIFICATION the peer sent ends both sources, post-policy first.
  wire_bmp::PeerDown down;
  down.peer = h;
  down.reason = wire_bmp::PeerDownReason::RemoteNotification;
  down.notification = bgp::Notification{6, 2, {}};
  ASSERT_FALSE(feed(encode(down)));
  ASSERT_EQ(events.events.size(), 8U);
  EXPECT_EQ(events.events[6].kind, "down");
  EXPECT_EQ(events.events[6].id, 2U);
  EXPECT_EQ(events.events[7].id, 1U);
  EXPECT_EQ(events.events[7].notification_size, 21U);  // the NOTIFICATION, as the router sent it
  EXPECT_FALSE(events.events[7].local);
  EXPECT_NE(events.events[7].reason.find("the peer sent a NOTIFICATION: Cease"), std::string::npos)
      << events.events[7].reason;
  EXPECT_EQ(router.peers_up(), 0U);

  // Up again: the same ids.
  ASSERT_FALSE(feed(peer_up(h, 64500, keep)));
  EXPECT_EQ(events.events.back().id, 1U);
}

TEST_F(BmpRouter, ClosingTakesEverySourceDown) {
  ASSERT_FALSE(feed(initiation()));
  ASSERT_FALSE(feed(peer_up(header("198.51.100.7", 64500, 7), 64500, keep)));
  ASSERT_FALSE(feed(peer_up(header("2001:db8::7", 64501, 8), 64501, keep)));
  router.close(2'000'000, "connection lost");
  ASSERT_EQ(events.events.size(), 4U);
  EXPECT_EQ(events.events[2].kind, "down");
  EXPECT_EQ(events.events[3].kind, "down");
  EXPECT_EQ(events.events[3].reason, "connection lost");
  EXPECT_EQ(router.peers_up(), 0U);
}

TEST_F(BmpRouter, ProtocolErrorsCloseTheConnectionWithTheReason) {
  const auto h = header("198.51.100.7", 64500, 7);
  // Anything before the Initiation.
  auto problem = feed(peer_up(h, 64500, keep));
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "peer-up before the Initiation (RFC 7854 section 4.3: Initiation comes first)");

  ASSERT_FALSE(feed(initiation()));
  // Route Monitoring for a peer that is not up.
  problem = feed(route(h, update));
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "Route Monitoring for peer 198.51.100.7 AS64500, which is not up (RFC 7854 section "
            "4.10: its Peer Up comes first)");
  // A per-peer header that disagrees with the peer's OPEN.
  problem = feed(peer_up(h, 64999, keep));
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "Peer Up of peer 198.51.100.7 AS64500: the per-peer header says AS64500, the peer's "
            "OPEN AS64999");
  // ... and a Route Monitoring whose header disagrees with the Peer Up.
  ASSERT_FALSE(feed(peer_up(h, 64500, keep)));
  auto other = h;
  other.bgp_identifier = 9;
  problem = feed(route(other, update));
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("its Peer Up said AS64500 BGP identifier 0.0.0.7"), std::string::npos)
      << *problem;
  // An unknown message type, and a truncated body.
  Buffer unknown = {3, 0, 0, 0, 6, 42};
  problem = feed(unknown);
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem, "unknown BMP message type 42");
  Buffer truncated = route(h, update);
  truncated.resize(truncated.size() - 5);
  truncated[4] = static_cast<std::uint8_t>(truncated.size());
  problem = feed(truncated);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("route-monitoring: Route Monitoring UPDATE truncated"), std::string::npos)
      << *problem;
  EXPECT_NE(problem->find("(byte "), std::string::npos) << *problem;
}

TEST_F(BmpRouter, ATerminationEndsTheSessionWithItsReason) {
  ASSERT_FALSE(feed(initiation()));
  wire_bmp::Termination t;
  const Buffer reason = {0, 0};  // administratively closed
  t.information.push_back({static_cast<std::uint16_t>(wire_bmp::TerminationType::Reason), reason});
  ASSERT_FALSE(feed(encode(t)));
  EXPECT_TRUE(router.terminated());
  EXPECT_NE(router.termination().find("Termination: "), std::string::npos) << router.termination();
  EXPECT_TRUE(feed(initiation()));  // nothing after it
}

}  // namespace
}  // namespace bgpscribe::collector::bmp
