// codec/bgp/text.hpp: the one text form of protocol values that dump --json, RIS Live,
// bgpdump -m, the SQL archive, the speaker and the examples share (docs/text.md); and the RFC
// 6793 effective path and aggregator. tests/tools/text_outputs_test.cpp checks that the outputs
// really write these.
#include "codec/bgp/text.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "codec/bgp/update.hpp"

namespace bgpscribe::codec::bgp {
namespace {

std::string ext(std::array<std::uint8_t, 8> c) {
  return extended_community_text(c);
}

TEST(Text, ExtendedCommunitiesInTheirRfcForms) {
  // RFC 4360 4: 2-octet AS and IPv4 address types; RFC 5668: 4-octet AS type. Subtype 2 is the
  // route target, 3 the route origin; transitive (0x0_) or not (0x4_).
  EXPECT_EQ(ext({0x00, 0x02, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x64}), "rt:65000:100");
  EXPECT_EQ(ext({0x40, 0x03, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x07}), "ro:65000:7");
  EXPECT_EQ(ext({0x01, 0x03, 192, 0, 2, 1, 0x00, 0x07}), "ro:192.0.2.1:7");
  EXPECT_EQ(ext({0x02, 0x02, 0xFA, 0x56, 0xEA, 0x00, 0x00, 0x05}), "rt:4200000000:5");
  // Anything else in hex: another subtype, another type, the IANA authority bit.
  EXPECT_EQ(ext({0x03, 0x0C, 0, 0, 0, 0, 0, 8}), "0x030c000000000008");
  EXPECT_EQ(ext({0x00, 0x05, 0, 1, 0, 0, 0, 2}), "0x0005000100000002");
  EXPECT_EQ(ext({0x80, 0x02, 0, 1, 0, 0, 0, 2}), "0x8002000100000002");
}

TEST(Text, OriginNames) {
  EXPECT_STREQ(origin_name(Origin::Igp), "IGP");
  EXPECT_STREQ(origin_name(Origin::Egp), "EGP");
  EXPECT_STREQ(origin_name(Origin::Incomplete), "INCOMPLETE");
}

// docs/text.md, value by value: each row is a value and the one spelling every output uses.
TEST(Text, EveryKindInItsOneSpelling) {
  struct Row {
    std::string got;
    const char* want;
  };
  const std::array<std::uint8_t, 12> large{0xFA, 0x56, 0xEA, 0x00, 0, 0, 0, 1, 0, 0, 0, 2};
  const std::array<std::uint8_t, 4> hex{0x00, 0x0A, 0xBC, 0xFF};
  GracefulRestartCapability gr;
  gr.restart_time = 120;
  gr.tuples.push_back({kIpv4Unicast, 0x80});
  gr.tuples.push_back({kIpv6Unicast, 0});
  AddPathCapability ap;
  ap.tuples.push_back({kIpv4Unicast, AddPathMode::Receive});
  ap.tuples.push_back({kIpv6Unicast, AddPathMode::Both});
  const AsPath path{{AsSegmentType::AsConfedSequence, {64512, 64513}},
                    {AsSegmentType::AsConfedSet, {64514, 64515}},
                    {AsSegmentType::AsSequence, {65001, 4200000001}},
                    {AsSegmentType::AsSet, {64496, 64497}}};
  const Row rows[] = {
      {community_text(0xFDE80001), "65000:1"},
      {community_text(0xFFFFFF01), "65535:65281"},  // NO_EXPORT: a number like any other
      {community_text(0), "0:0"},
      {large_community_text(large), "4200000000:1:2"},
      {large_community_text({4294967295U, 0, 4294967295U}), "4294967295:0:4294967295"},
      {extended_community_text(0x0002FDE800000064ULL), "rt:65000:100"},
      {extended_community_text(0x0103C00002010007ULL), "ro:192.0.2.1:7"},
      {extended_community_text(0x030C000000000008ULL), "0x030c000000000008"},
      {to_string(path), "(64512 64513) [64514,64515] 65001 4200000001 {64496,64497}"},
      {to_string(AsPath{}), ""},
      {family_text(kIpv4Unicast), "ipv4/unicast"},
      {family_text({Afi::L2vpn, Safi::Evpn}), "l2vpn/evpn"},
      {family_text({Afi::Ipv6, Safi::MplsVpn}), "ipv6/mpls-vpn"},
      {family_text({Afi::Ipv4, static_cast<Safi>(3)}), "ipv4/3"},
      {family_text({static_cast<Afi>(99), Safi::Unicast}), "99/unicast"},
      {capability_name(CapabilityCode::FourOctetAs), "4-octet-as"},
      {capability_name(static_cast<CapabilityCode>(99)), "99"},
      {capability_text(Capability::of(MultiprotocolCapability{kIpv6Unicast, 0})),
       "multiprotocol ipv6/unicast"},
      {capability_text(Capability::of(FourOctetAsCapability{4200000000})), "4-octet-as 4200000000"},
      {capability_text(Capability::of(ap)),
       "add-path ipv4/unicast receive ipv6/unicast send/receive"},
      {capability_text(Capability::of(gr)), "graceful-restart 120s ipv4/unicast ipv6/unicast"},
      {capability_text(Capability::of(RouteRefreshCapability{})), "route-refresh"},
      {capability_text(Capability::raw(99, {1, 2})), "99"},
      {notification_text(6, 2), "Cease / Administrative Shutdown"},
      {notification_text(3, 11), "UPDATE Message Error / Malformed AS_PATH"},
      {notification_text(4, 0), "Hold Timer Expired"},
      {notification_text(6, 99), "Cease / subcode 99"},
      {notification_text(9, 5), "code 9 / subcode 5"},
      {notification_text(9, 0), "code 9"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(row.got, row.want);
  }
  std::string h = "x";
  append_hex(h, hex);
  EXPECT_EQ(h, "x000abcff");
  EXPECT_STREQ(to_string(MessageType::Notification), "NOTIFICATION");
  EXPECT_STREQ(to_string(AttributeType::LargeCommunities), "LARGE_COMMUNITIES");
  EXPECT_EQ(to_string(static_cast<Afi>(99)), nullptr);
  EXPECT_STREQ(error_subcode_name(6, 2), "Administrative Shutdown");
  EXPECT_EQ(error_code_name(9), nullptr);
}

// The char-buffer forms write what the string forms append, within their stated maxima.
TEST(Text, BufferFormsAgreeWithTheStringForms) {
  char buf[kLargeCommunityTextMax];
  for (const std::uint32_t c : {0U, 0xFDE80001U, 0xFFFFFFFFU}) {
    const std::size_t n = format_community(c, buf);
    EXPECT_LE(n, kCommunityTextMax);
    EXPECT_EQ(std::string(buf, n), community_text(c));
  }
  const std::array<std::uint8_t, 12> widest{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const std::size_t n = format_large_community(widest, buf);
  EXPECT_LE(n, kLargeCommunityTextMax);
  EXPECT_EQ(std::string(buf, n), "4294967295:4294967295:4294967295");
  EXPECT_EQ(std::string(buf, n), large_community_text(widest));
}

// AS path marks: the table bgpdump's own walk of a path uses (tools/bgpdump_format.cpp).
TEST(Text, SegmentMarks) {
  EXPECT_EQ(as_segment_marks(AsSegmentType::AsSet).open, '{');
  EXPECT_EQ(as_segment_marks(AsSegmentType::AsConfedSet).separator, ',');
  EXPECT_EQ(as_segment_marks(AsSegmentType::AsConfedSequence).close, ')');
  EXPECT_EQ(as_segment_marks(AsSegmentType::AsSequence).open, '\0');
}

TEST(Text, EffectivePathAndAggregatorOfATwoOctetSession) {
  // A 2-octet session's UPDATE: AS_TRANS in AS_PATH and AGGREGATOR, the truth in AS4_PATH and
  // AS4_AGGREGATOR (RFC 6793 4.2.3).
  UpdateMessage m;
  m.nlri.push_back({*Prefix::parse("198.51.100.0/24"), 0});
  m.attributes.origin(Origin::Igp)
      .as_path({{AsSegmentType::AsSequence, {65001, 23456}}}, 2)
      .as4_path({{AsSegmentType::AsSequence, {4200000007}}})
      .next_hop(0xC0000201)
      .aggregator(Aggregator{23456, 0xC0000202}, 2)
      .as4_aggregator(Aggregator{4200000007, 0xC0000202});
  wire::Writer w;
  ASSERT_TRUE(m.encode(w));
  ParseContext as2;
  as2.four_octet_as = false;
  auto u = parse_update(w.bytes(), as2);
  ASSERT_TRUE(u);
  const AsPath path = effective_as_path(u->attributes, false);
  EXPECT_EQ(to_string(path), "65001 4200000007");
  EXPECT_EQ(origin_as(path), 4200000007U);
  EXPECT_EQ(path_length(path), 2U);
  EXPECT_EQ(effective_aggregator(u->attributes, false)->asn, 4200000007U);
  // The owned path's rules are the view's.
  for (const AsPath& p : {AsPath{{AsSegmentType::AsSequence, {1, 2}}, {AsSegmentType::AsSet, {3}}},
                          AsPath{{AsSegmentType::AsSequence, {1}}, {AsSegmentType::AsSet, {3, 4}}},
                          AsPath{{AsSegmentType::AsConfedSequence, {64512}},
                                 {AsSegmentType::AsSequence, {5, 6}},
                                 {AsSegmentType::AsConfedSet, {64513}}}}) {
    wire::Writer pw;
    encode_as_path(pw, p, 4);
    auto view = AsPathView::parse(wire::Reader(pw.bytes()), 4);
    ASSERT_TRUE(view);
    EXPECT_EQ(origin_as(p), view->origin_as()) << to_string(p);
    EXPECT_EQ(path_length(p), view->path_length()) << to_string(p);
  }
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
