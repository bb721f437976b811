#include "codec/bgp/capability.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/open.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::bgp {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encode(const Capability& c) {
  wire::Writer w;
  EXPECT_TRUE(encode_capability(c, w));
  EXPECT_EQ(w.size(), encoded_capability_size(c));
  return w.take();
}

Result<Capability> parse(const Bytes& b, std::uint32_t base = 0) {
  wire::Reader r(b, base);
  auto c = parse_capability(r);
  if (c) {
    EXPECT_TRUE(r.empty());
  }
  return c;
}

// encode(parse(bytes)) == bytes and parse(encode(value)) == value.
void expect_round_trip(const Bytes& bytes, const Capability& value) {
  auto parsed = parse(bytes);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, value);
  EXPECT_EQ(encode(*parsed), bytes);
  EXPECT_EQ(encode(value), bytes);
}

TEST(Capability, Multiprotocol) {
  expect_round_trip(
      {
          0x01, 0x04,  // code 1, length 4
          0x00, 0x02,  // AFI IPv6
          0x00,        // reserved
          0x01,        // SAFI unicast
      },
      Capability::of(MultiprotocolCapability{kIpv6Unicast}));
  // A non-zero reserved octet survives.
  expect_round_trip({0x01, 0x04, 0x00, 0x01, 0x07, 0x80},
                    Capability::of(MultiprotocolCapability{{Afi::Ipv4, Safi::MplsVpn}, 7}));
}

TEST(Capability, EmptyCapabilities) {
  expect_round_trip({0x02, 0x00}, Capability::of(RouteRefreshCapability{}));
  expect_round_trip({0x06, 0x00}, Capability::of(ExtendedMessageCapability{}));
  expect_round_trip({0x46, 0x00}, Capability::of(EnhancedRouteRefreshCapability{}));
  expect_round_trip({0x80, 0x00}, Capability::of(CiscoRouteRefreshCapability{}));
}

TEST(Capability, ExtendedNextHop) {
  expect_round_trip(
      {
          0x05, 0x0C,              // code 5, length 12
          0x00, 0x01, 0x00, 0x01,  // NLRI AFI IPv4, NLRI SAFI unicast (2 octets)
          0x00, 0x02,              // next-hop AFI IPv6
          0x00, 0x01, 0x00, 0x80,  // NLRI AFI IPv4, SAFI 128
          0x00, 0x02,              // next-hop AFI IPv6
      },
      Capability::of(
          ExtendedNextHopCapability{{{Afi::Ipv4, 1, Afi::Ipv6}, {Afi::Ipv4, 128, Afi::Ipv6}}}));
}

TEST(Capability, Role) {
  expect_round_trip({0x09, 0x01, 0x03}, Capability::of(RoleCapability{BgpRole::Customer}));
}

TEST(Capability, GracefulRestart) {
  GracefulRestartCapability gr;
  gr.flags = GracefulRestartCapability::kRestartState | GracefulRestartCapability::kNotification;
  gr.restart_time = 120;
  gr.tuples = {{kIpv4Unicast, GracefulRestartTuple::kForwardingState}, {kIpv6Unicast, 0}};
  expect_round_trip(
      {
          0x40, 0x0A,        // code 64, length 10
          0xC0, 0x78,        // R and N flags, restart time 120
          0x00, 0x01, 0x01,  // IPv4 unicast
          0x80,              // F: forwarding state preserved
          0x00, 0x02, 0x01,  // IPv6 unicast
          0x00,              // no flags
      },
      Capability::of(gr));
  auto parsed = parse({0x40, 0x02, 0x80, 0x00});
  ASSERT_TRUE(parsed);
  const auto* v = parsed->get<GracefulRestartCapability>();
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->restarting());
  EXPECT_FALSE(v->notification());
  EXPECT_TRUE(v->tuples.empty());
}

TEST(Capability, FourOctetAs) {
  expect_round_trip({0x41, 0x04, 0x00, 0x03, 0x0D, 0x40},
                    Capability::of(FourOctetAsCapability{200000}));
}

TEST(Capability, AddPath) {
  expect_round_trip(
      {
          0x45, 0x08,        // code 69, length 8
          0x00, 0x01, 0x01,  // IPv4 unicast
          0x03,              // send and receive
          0x00, 0x02, 0x01,  // IPv6 unicast
          0x01,              // receive
      },
      Capability::of(AddPathCapability{
          {{kIpv4Unicast, AddPathMode::Both}, {kIpv6Unicast, AddPathMode::Receive}}}));
}

TEST(Capability, Llgr) {
  expect_round_trip(
      {
          0x47, 0x07,        // code 71, length 7
          0x00, 0x01, 0x01,  // IPv4 unicast
          0x80,              // F
          0x01, 0x51, 0x80,  // stale time 86400 s
      },
      Capability::of(LlgrCapability{{{kIpv4Unicast, 0x80, 86400}}}));
}

TEST(Capability, FqdnAndSoftwareVersion) {
  expect_round_trip(
      {
          0x49, 0x09,                     // code 73, length 9
          0x02, 'r', '1',                 // hostname "r1"
          0x05, 'l', 'o', 'c', 'a', 'l',  // domain "local"
      },
      Capability::of(FqdnCapability{"r1", "local"}));
  expect_round_trip({0x49, 0x02, 0x00, 0x00}, Capability::of(FqdnCapability{}));
  expect_round_trip(
      {
          0x4B, 0x05,                // code 75, length 5
          0x04, 'F', 'R', 'R', '9',  // "FRR9"
      },
      Capability::of(SoftwareVersionCapability{"FRR9"}));
}

TEST(Capability, UnknownAndUninterpretedCodesStayRaw) {
  expect_round_trip({0xEE, 0x03, 0x01, 0x02, 0x03}, Capability::raw(0xEE, {1, 2, 3}));
  // ORF (code 3) is kept raw too.
  expect_round_trip({0x03, 0x07, 0x00, 0x01, 0x00, 0x01, 0x01, 0x40, 0x03},
                    Capability::raw(3, {0x00, 0x01, 0x00, 0x01, 0x01, 0x40, 0x03}));
}

// One malformed-input test per length rule: 2/0, session reset, offset of the length octet.
void expect_malformed(const Bytes& b, std::uint32_t offset) {
  auto c = parse(b, 10);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, error_code::kOpenMessage);
  EXPECT_EQ(c.error().subcode, 0);
  EXPECT_EQ(c.error().reaction, Reaction::SessionReset);
  EXPECT_EQ(c.error().offset, 10U + offset);
}

TEST(Capability, MalformedLengths) {
  expect_malformed({0x01, 0x03, 0x00, 0x01, 0x01}, 1);              // MP length 3
  expect_malformed({0x02, 0x01, 0x00}, 1);                          // route refresh with a value
  expect_malformed({0x05, 0x04, 0x00, 0x01, 0x00, 0x01}, 1);        // ext next hop not 6n
  expect_malformed({0x06, 0x01, 0x00}, 1);                          // extended message with a value
  expect_malformed({0x09, 0x02, 0x00, 0x00}, 1);                    // role length 2
  expect_malformed({0x40, 0x01, 0x00}, 1);                          // GR shorter than 2
  expect_malformed({0x40, 0x05, 0x00, 0x78, 0x00, 0x01, 0x01}, 1);  // GR not 2 + 4n
  expect_malformed({0x41, 0x02, 0x00, 0x01}, 1);                    // AS4 length 2
  expect_malformed({0x45, 0x03, 0x00, 0x01, 0x01}, 1);              // ADD-PATH not 4n
  expect_malformed({0x46, 0x01, 0x00}, 1);                          // enhanced RR with a value
  expect_malformed({0x47, 0x06, 0x00, 0x01, 0x01, 0x80, 0x00, 0x00}, 1);  // LLGR not 7n
  expect_malformed({0x49, 0x03, 0x05, 'a', 'b'}, 1);  // FQDN host length overruns
  expect_malformed({0x49, 0x02, 0x01, 'a'}, 1);       // FQDN without domain length
  expect_malformed({0x4B, 0x03, 0x05, 'a', 'b'}, 1);  // software version overruns
  expect_malformed({0x80, 0x01, 0x00}, 1);            // Cisco RR with a value
  expect_malformed({0x41, 0x04, 0x00}, 1);            // value overruns the parameter
  expect_malformed({0x41}, 1);                        // header truncated
}

TEST(Capability, EncodeRefusesValuesOver255) {
  wire::Writer w;
  auto s = encode_capability(Capability::raw(0xEE, Bytes(256, 0)), w);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::TooLarge);
}

// ---- negotiation ----------------------------------------------------------------------------

using tests::from_hex;

Open make_open(std::uint16_t my_as, std::uint32_t id, std::uint16_t hold) {
  Open o;
  o.my_as = my_as;
  o.bgp_identifier = id;
  o.hold_time = hold;
  return o;
}

TEST(Negotiation, FamiliesAreTheIntersectionAndNoCap1MeansIpv4Unicast) {
  Open ours = make_open(65001, 1, 90);
  ours.add_capability(Capability::of(MultiprotocolCapability{kIpv4Unicast}));
  ours.add_capability(Capability::of(MultiprotocolCapability{kIpv6Unicast}));
  Open theirs = make_open(65002, 2, 180);
  theirs.add_capability(Capability::of(MultiprotocolCapability{kIpv6Unicast}));
  auto s = negotiate(ours, theirs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->families, std::vector<AfiSafi>{kIpv6Unicast});
  EXPECT_EQ(s->hold_time, 90);
  EXPECT_EQ(s->keepalive_time, 30);
  EXPECT_FALSE(s->ibgp);
  EXPECT_TRUE(s->receive_context().ebgp);

  Open bare = make_open(65002, 2, 0);
  s = negotiate(ours, bare);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->families, std::vector<AfiSafi>{kIpv4Unicast});
  EXPECT_EQ(s->hold_time, 0);
  EXPECT_EQ(s->keepalive_time, 0);
}

TEST(Negotiation, FourOctetAsAndRealPeerAs) {
  Open ours = make_open(static_cast<std::uint16_t>(kAsTrans), 1, 90);
  ours.add_capability(Capability::of(FourOctetAsCapability{4200000000U}));
  Open theirs = make_open(static_cast<std::uint16_t>(kAsTrans), 2, 90);
  theirs.add_capability(Capability::of(FourOctetAsCapability{200000}));
  auto s = negotiate(ours, theirs);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->four_octet_as);
  EXPECT_EQ(s->peer_as, 200000U);
  EXPECT_EQ(s->local_as, 4200000000U);
  EXPECT_FALSE(s->peer_as_mismatch);
  EXPECT_TRUE(s->receive_context().four_octet_as);

  // Cap 65 wins over a disagreeing My AS, flagged for the log.
  Open odd = make_open(65010, 2, 90);
  odd.add_capability(Capability::of(FourOctetAsCapability{65020}));
  s = negotiate(ours, odd);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->peer_as, 65020U);
  EXPECT_TRUE(s->peer_as_mismatch);

  // Only one side with cap 65: a 2-octet session.
  Open old = make_open(65030, 2, 90);
  s = negotiate(ours, old);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->four_octet_as);
  EXPECT_EQ(s->peer_as, 65030U);
  EXPECT_FALSE(s->receive_context().four_octet_as);
}

TEST(Negotiation, AddPathPerFamilyAndDirection) {
  Open ours = make_open(65001, 1, 90);
  ours.add_capability(Capability::of(MultiprotocolCapability{kIpv4Unicast}));
  ours.add_capability(Capability::of(MultiprotocolCapability{kIpv6Unicast}));
  ours.add_capability(Capability::of(AddPathCapability{
      {{kIpv4Unicast, AddPathMode::Receive}, {kIpv6Unicast, AddPathMode::Both}}}));
  Open theirs = make_open(65002, 2, 90);
  theirs.add_capability(Capability::of(MultiprotocolCapability{kIpv4Unicast}));
  theirs.add_capability(Capability::of(MultiprotocolCapability{kIpv6Unicast}));
  theirs.add_capability(Capability::of(AddPathCapability{
      {{kIpv4Unicast, AddPathMode::Send}, {kIpv6Unicast, AddPathMode::Receive}}}));
  auto s = negotiate(ours, theirs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->add_path_receive, std::vector<AfiSafi>{kIpv4Unicast});
  EXPECT_EQ(s->add_path_send, std::vector<AfiSafi>{kIpv6Unicast});
  const ParseContext rx = s->receive_context();
  EXPECT_TRUE(rx.add_path(kIpv4Unicast));
  EXPECT_FALSE(rx.add_path(kIpv6Unicast));
  const ParseContext tx = s->send_context();
  EXPECT_FALSE(tx.add_path(kIpv4Unicast));
  EXPECT_TRUE(tx.add_path(kIpv6Unicast));
}

TEST(Negotiation, ExtendedMessageRefreshGrAndLlgr) {
  Open ours = make_open(65001, 1, 90);
  ours.add_capability(Capability::of(ExtendedMessageCapability{}));
  ours.add_capability(Capability::of(EnhancedRouteRefreshCapability{}));
  Open theirs = make_open(65002, 2, 90);
  theirs.add_capability(Capability::of(ExtendedMessageCapability{}));
  theirs.add_capability(Capability::of(RouteRefreshCapability{}));
  theirs.add_capability(Capability::of(EnhancedRouteRefreshCapability{}));
  theirs.add_capability(Capability::of(GracefulRestartCapability{0, 100, {}}));
  // Only the last GR instance counts.
  theirs.add_capability(Capability::of(GracefulRestartCapability{
      GracefulRestartCapability::kNotification, 120, {{kIpv4Unicast, 0x80}}}));
  theirs.add_capability(Capability::of(LlgrCapability{{{kIpv4Unicast, 0, 3600}}}));
  auto s = negotiate(ours, theirs);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->extended_message);
  EXPECT_TRUE(s->receive_context().extended_message);
  EXPECT_TRUE(s->route_refresh);
  EXPECT_TRUE(s->enhanced_route_refresh);
  ASSERT_TRUE(s->peer_graceful_restart);
  EXPECT_EQ(s->peer_graceful_restart->restart_time, 120);
  EXPECT_TRUE(s->peer_graceful_restart->notification());
  ASSERT_TRUE(s->peer_llgr);
  EXPECT_EQ(s->peer_llgr->tuples.at(0).stale_time, 3600U);

  Open plain = make_open(65002, 2, 90);
  plain.add_capability(Capability::of(CiscoRouteRefreshCapability{}));
  s = negotiate(ours, plain);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->extended_message);
  EXPECT_TRUE(s->route_refresh);
  EXPECT_FALSE(s->enhanced_route_refresh);
  EXPECT_FALSE(s->peer_graceful_restart);
}

void expect_open_error(const Result<NegotiatedSession>& s, std::uint8_t subcode) {
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, error_code::kOpenMessage);
  EXPECT_EQ(s.error().subcode, subcode);
  EXPECT_EQ(s.error().reaction, Reaction::SessionReset);
}

TEST(Negotiation, Roles) {
  Open ours = make_open(65001, 1, 90);
  ours.add_capability(Capability::of(RoleCapability{BgpRole::Provider}));
  Open customer = make_open(65002, 2, 90);
  customer.add_capability(Capability::of(RoleCapability{BgpRole::Customer}));
  auto s = negotiate(ours, customer);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->peer_role, BgpRole::Customer);

  Open peer = make_open(65002, 2, 90);
  peer.add_capability(Capability::of(RoleCapability{BgpRole::Peer}));
  expect_open_error(negotiate(ours, peer), open_subcode::kRoleMismatch);

  Open conflicting = make_open(65002, 2, 90);
  conflicting.add_capability(Capability::of(RoleCapability{BgpRole::Customer}));
  conflicting.add_capability(Capability::of(RoleCapability{BgpRole::Peer}));
  expect_open_error(negotiate(ours, conflicting), open_subcode::kRoleMismatch);

  Open none = make_open(65002, 2, 90);
  EXPECT_TRUE(negotiate(ours, none));
  expect_open_error(negotiate(ours, none, {.strict_role = true}), open_subcode::kRoleMismatch);

  EXPECT_TRUE(roles_compatible(BgpRole::RouteServer, BgpRole::RsClient));
  EXPECT_TRUE(roles_compatible(BgpRole::RsClient, BgpRole::RouteServer));
  EXPECT_TRUE(roles_compatible(BgpRole::Peer, BgpRole::Peer));
  EXPECT_FALSE(roles_compatible(BgpRole::RouteServer, BgpRole::RouteServer));
  EXPECT_FALSE(roles_compatible(BgpRole::Customer, BgpRole::Customer));
}

TEST(Negotiation, HoldTimeAndIdentifierChecks) {
  Open ours = make_open(65001, 1, 90);
  expect_open_error(negotiate(ours, make_open(65002, 2, 2)), open_subcode::kUnacceptableHoldTime);
  expect_open_error(negotiate(ours, make_open(65002, 2, 1)), open_subcode::kUnacceptableHoldTime);
  auto s = negotiate(ours, make_open(65002, 2, 3));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->hold_time, 3);
  EXPECT_EQ(s->keepalive_time, 1);
  // iBGP with our own identifier is 2/3; eBGP may share it (RFC 6286).
  expect_open_error(negotiate(ours, make_open(65001, 1, 90)), open_subcode::kBadBgpIdentifier);
  s = negotiate(ours, make_open(65002, 1, 90));
  ASSERT_TRUE(s);
  s = negotiate(ours, make_open(65001, 2, 90));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->ibgp);
  EXPECT_TRUE(s->receive_context().ibgp);
  EXPECT_FALSE(s->receive_context().ebgp);
}

TEST(Negotiation, RealOpenPair) {
  // The two OPENs of /work/shared/data/bgp-pcap/tcpdump/tests/bgp-cease-hard-reset.pcap.
  auto first = parse_open(from_hex(
      "ffffffffffffffffffffffffffffffff0031010400640e10010001011402084006403c00010180020802000104"
      "00010001"));
  auto second =
      parse_open(from_hex("ffffffffffffffffffffffffffffffff0041010400640e10000000012402220104000100"
                          "0101040002000102004002"
                          "c12c41040000006445080001010100020101"));
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  auto s = negotiate(*first, *second);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->ibgp);  // AS 100 on both sides, distinct identifiers
  EXPECT_EQ(s->families, std::vector<AfiSafi>{kIpv4Unicast});
  EXPECT_FALSE(s->four_octet_as);  // only the second sent cap 65
  EXPECT_EQ(s->peer_as, 100U);
  EXPECT_TRUE(s->add_path_receive.empty());  // it can only receive path ids
  EXPECT_EQ(s->hold_time, 3600);
  ASSERT_TRUE(s->peer_graceful_restart);
  EXPECT_TRUE(s->peer_graceful_restart->restarting());
  EXPECT_TRUE(s->peer_graceful_restart->notification());
  EXPECT_EQ(s->peer_graceful_restart->restart_time, 300);
  EXPECT_TRUE(s->route_refresh);
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
