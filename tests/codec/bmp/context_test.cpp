#include "codec/bmp/context.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "codec/bgp/capability.hpp"

namespace bgpscribe::codec::bmp {
namespace {

using Buffer = std::vector<std::uint8_t>;

bgp::Open make_open(std::uint16_t as, std::uint32_t id) {
  bgp::Open o;
  o.my_as = as;
  o.hold_time = 90;
  o.bgp_identifier = id;
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv4Unicast}));
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv6Unicast}));
  return o;
}

Buffer encode_open(const bgp::Open& o) {
  wire::Writer w;
  EXPECT_TRUE(bgp::encode_open(o, w));
  return w.take();
}

TEST(BmpContext, AdjRibInUsesReceivedSendAndSentReceive) {
  // The router (sent OPEN) receives path ids on IPv4; it sends them on IPv6.
  bgp::Open sent = make_open(65000, 1);
  sent.add_capability(
      bgp::Capability::of(bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Receive},
                                                  {bgp::kIpv6Unicast, bgp::AddPathMode::Send}}}));
  bgp::Open received = make_open(64500, 2);
  received.add_capability(bgp::Capability::of(
      bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Send},
                              {bgp::kIpv6Unicast, bgp::AddPathMode::Receive}}}));

  PerPeerHeader in;  // O clear: Adj-RIB-In
  bgp::ParseContext ctx = route_monitoring_context(sent, received, in);
  EXPECT_TRUE(ctx.add_path(bgp::kIpv4Unicast));
  EXPECT_FALSE(ctx.add_path(bgp::kIpv6Unicast));
  EXPECT_TRUE(ctx.four_octet_as);
  EXPECT_FALSE(ctx.ibgp);
  EXPECT_TRUE(ctx.ebgp);

  PerPeerHeader out;
  out.flags = peer_flag::kAdjRibOut;  // O set: the PDUs went from the router to the peer
  ctx = route_monitoring_context(sent, received, out);
  EXPECT_FALSE(ctx.add_path(bgp::kIpv4Unicast));
  EXPECT_TRUE(ctx.add_path(bgp::kIpv6Unicast));

  PerPeerHeader loc;  // Loc-RIB: 0x10 is reserved, never O
  loc.peer_type = PeerType::LocRibInstance;
  loc.flags = peer_flag::kAdjRibOut;
  ctx = route_monitoring_context(sent, received, loc);
  EXPECT_TRUE(ctx.add_path(bgp::kIpv4Unicast));
  EXPECT_FALSE(ctx.ibgp);  // a Loc-RIB mixes session kinds
  EXPECT_FALSE(ctx.ebgp);
}

TEST(BmpContext, AFlagDecidesAsWidth) {
  bgp::Open sent = make_open(65000, 1);
  bgp::Open received = make_open(65000, 2);
  PerPeerHeader legacy;
  legacy.flags = peer_flag::kLegacyAsPath;
  bgp::ParseContext ctx = route_monitoring_context(sent, received, legacy);
  EXPECT_FALSE(ctx.four_octet_as);
  EXPECT_TRUE(ctx.ibgp);
  EXPECT_TRUE(as_width_consistent(sent, received, legacy));
  EXPECT_FALSE(as_width_consistent(sent, received, PerPeerHeader{}));
  sent.add_capability(bgp::Capability::of(bgp::FourOctetAsCapability{65000}));
  received.add_capability(bgp::Capability::of(bgp::FourOctetAsCapability{65000}));
  EXPECT_TRUE(as_width_consistent(sent, received, PerPeerHeader{}));
  EXPECT_TRUE(route_monitoring_context(sent, received, PerPeerHeader{}).four_octet_as);
}

TEST(BmpContext, ExtendedMessageNeedsBothOpens) {
  bgp::Open sent = make_open(65000, 1);
  bgp::Open received = make_open(64500, 2);
  sent.add_capability(bgp::Capability::of(bgp::ExtendedMessageCapability{}));
  EXPECT_FALSE(route_monitoring_context(sent, received, PerPeerHeader{}).extended_message);
  received.add_capability(bgp::Capability::of(bgp::ExtendedMessageCapability{}));
  EXPECT_TRUE(route_monitoring_context(sent, received, PerPeerHeader{}).extended_message);
}

TEST(BmpContext, FromPeerUp) {
  bgp::Open sent = make_open(65000, 1);
  bgp::Open received = make_open(64500, 2);
  received.add_capability(
      bgp::Capability::of(bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Both}}}));
  sent.add_capability(
      bgp::Capability::of(bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Both}}}));
  const Buffer s = encode_open(sent);
  const Buffer r = encode_open(received);
  PeerUp up;
  up.sent_open = s;
  up.received_open = r;
  auto ctx = route_monitoring_context(up, PerPeerHeader{});
  ASSERT_TRUE(ctx);
  EXPECT_TRUE(ctx->add_path(bgp::kIpv4Unicast));

  Buffer bad = s;
  bad[19] = 3;  // version 3
  up.sent_open = bad;
  auto err = route_monitoring_context(up, PerPeerHeader{});
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code, 2);
  EXPECT_EQ(err.error().subcode, 1);
}

}  // namespace
}  // namespace bgpscribe::codec::bmp
