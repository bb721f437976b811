// codec/bgp/text.hpp: the one text form of protocol values that dump --json, RIS Live,
// bgpdump -m and the SQL archive share; and the RFC 6793 effective path and aggregator.
#include "codec/bgp/text.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

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
  EXPECT_STREQ(origin_name(Origin::Incomplete), "INCOMPLETE");
  EXPECT_STREQ(origin_name_lower(Origin::Egp), "egp");
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
