#include "codec/bgp/attributes.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/text.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::bgp {
namespace {

using Bytes = std::vector<std::uint8_t>;
using T = AttributeType;

constexpr AfiSafi kVpnV4{Afi::Ipv4, Safi::MplsVpn};
constexpr AfiSafi kVpnV6{Afi::Ipv6, Safi::MplsVpn};

ParseContext ctx_as2() {
  ParseContext c;
  c.four_octet_as = false;
  return c;
}
ParseContext ctx_ebgp() {
  ParseContext c;
  c.ebgp = true;
  return c;
}
ParseContext ctx_ibgp() {
  ParseContext c;
  c.ibgp = true;
  return c;
}

// The view keeps spans into `block`: callers keep the bytes alive.
PathAttributes parse(const Bytes& block, const ParseContext& ctx = {},
                     const AttributeOptions& options = {}, std::uint32_t base = 0) {
  return parse_attributes(wire::Reader(block, base), ctx, options);
}

Bytes encode(const AttributeBuilder& b) {
  wire::Writer w;
  b.encode(w);
  EXPECT_EQ(w.size(), b.encoded_size());
  return w.take();
}

constexpr auto* pfx = &tests::prefix;
constexpr auto* texts = &tests::prefix_texts;

// encode(from_block(parse(bytes).block)) == bytes, and the items match a direct copy.
void expect_bytes_round_trip(const Bytes& block, const ParseContext& ctx = {}) {
  const PathAttributes a = parse(block, ctx);
  const AttributeBuilder rebuilt = AttributeBuilder::from_block(a.block);
  EXPECT_EQ(encode(rebuilt), block);
}

// Exactly one diagnostic, with these fields.
void expect_one_error(const PathAttributes& a, ErrorKind kind, std::uint8_t subcode,
                      Reaction reaction, std::uint32_t offset) {
  EXPECT_EQ(a.diagnostics.error_count, 1);
  const Error& e = a.diagnostics.first;
  EXPECT_EQ(e.kind, kind);
  EXPECT_EQ(e.code, error_code::kUpdateMessage);
  EXPECT_EQ(e.subcode, subcode);
  EXPECT_EQ(e.reaction, reaction);
  EXPECT_EQ(e.offset, offset);
  EXPECT_EQ(a.diagnostics.reaction, reaction);
}

// ---- round trips ------------------------------------------------------------------------------

TEST(AttributeBuilder, WellKnownAttributesEncodeAsExpected) {
  AttributeBuilder b;
  b.origin(Origin::Egp)
      .as_path({{AsSegmentType::AsSequence, {65000, 200000}}})
      .next_hop(0xC0000201)
      .local_pref(100)
      .atomic_aggregate();
  const Bytes expected = {
      0x40, 0x01, 0x01, 0x01,                                // ORIGIN EGP
      0x40, 0x02, 0x0A, 0x02, 0x02, 0x00, 0x00, 0xFD, 0xE8,  // AS_PATH: AS_SEQUENCE
      0x00, 0x03, 0x0D, 0x40,                                //   65000 200000
      0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,              // NEXT_HOP 192.0.2.1
      0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,              // LOCAL_PREF 100
      0x40, 0x06, 0x00,                                      // ATOMIC_AGGREGATE
  };
  EXPECT_EQ(encode(b), expected);
  const PathAttributes a = parse(expected, ctx_ibgp());
  EXPECT_TRUE(a.diagnostics.ok());
  EXPECT_EQ(a.origin, Origin::Egp);
  EXPECT_EQ(a.as_path.to_owned(), (AsPath{{AsSegmentType::AsSequence, {65000, 200000}}}));
  EXPECT_EQ(a.next_hop, 0xC0000201U);
  EXPECT_EQ(a.local_pref, 100U);
  EXPECT_TRUE(a.has(T::AtomicAggregate));
  EXPECT_EQ(a.unknown_count(), 0U);
  EXPECT_EQ(AttributeBuilder::from_block(a.block).items(), b.items());
}

TEST(AttributeBuilder, EveryAttributeRoundTripsBothWays) {
  const std::array<std::uint32_t, 3> communities = {0xFFFFFF01, 0xFDE80064, 0x0000FFFF};
  const std::array<std::uint64_t, 2> ext = {0x0002FDE800000064ULL, 0x4300000000000002ULL};
  const std::array<std::array<std::uint32_t, 3>, 2> large = {{{4200000000U, 1, 2}, {65000, 3, 4}}};
  const std::array<std::uint32_t, 2> clusters = {0x0A000001, 0x0A000002};
  const std::array<std::uint8_t, 3> unknown = {1, 2, 3};
  for (const Origin origin : {Origin::Igp, Origin::Egp, Origin::Incomplete}) {
    // A 2-octet iBGP session: the only kind that carries every attribute the builder makes
    // (AS4_PATH and AS4_AGGREGATOR are discarded between 4-octet speakers).
    ParseContext ctx = ctx_as2();
    ctx.ibgp = true;
    AttributeBuilder b;
    b.origin(origin)
        .as_path({{AsSegmentType::AsSequence, {3356, 1299}}, {AsSegmentType::AsSet, {7, 8}}}, 2)
        .next_hop(0xC6336401)
        .med(4294967295U)
        .local_pref(200)
        .atomic_aggregate()
        .aggregator({65001, 0xC0000209}, 2)
        .communities(communities)
        .extended_communities(ext)
        .large_communities(large)
        .originator_id(0x0A0000FE)
        .cluster_list(clusters)
        .aigp(0x0102030405060708ULL)
        .otc(64512)
        .as4_path({{AsSegmentType::AsSequence, {200000}}})
        .as4_aggregator({300000, 0xC000020A})
        .raw(0xE0, 200, unknown);  // unknown optional transitive, partial
    const Bytes bytes = encode(b);
    const PathAttributes a = parse(bytes, ctx);
    ASSERT_TRUE(a.diagnostics.ok()) << a.diagnostics.first.message;
    EXPECT_EQ(a.origin, origin);
    EXPECT_EQ(a.origin_raw, static_cast<std::uint8_t>(origin));
    EXPECT_EQ(a.as_path.to_owned(),
              (AsPath{{AsSegmentType::AsSequence, {3356, 1299}}, {AsSegmentType::AsSet, {7, 8}}}));
    EXPECT_EQ(a.next_hop, 0xC6336401U);
    EXPECT_EQ(a.med, 4294967295U);
    EXPECT_EQ(a.local_pref, 200U);
    EXPECT_TRUE(a.has(T::AtomicAggregate));
    EXPECT_EQ(a.aggregator.asn, 65001U);
    EXPECT_EQ(a.aggregator.address, 0xC0000209U);
    ASSERT_EQ(a.communities.size(), 12U);
    for (std::size_t i = 0; i < communities.size(); ++i) {
      EXPECT_EQ(community_at(a.communities, i), communities[i]);
    }
    ASSERT_EQ(a.extended_communities.size(), 16U);
    EXPECT_EQ(wire::load_u32(a.extended_communities, 0), 0x0002FDE8U);
    EXPECT_EQ(wire::load_u32(a.extended_communities, 12), 2U);
    ASSERT_EQ(a.large_communities.size(), 24U);
    EXPECT_EQ(wire::load_u32(a.large_communities, 0), 4200000000U);
    EXPECT_EQ(wire::load_u32(a.large_communities, 20), 4U);
    EXPECT_EQ(a.originator_id, 0x0A0000FEU);
    ASSERT_EQ(a.cluster_list.size(), 8U);
    EXPECT_EQ(wire::load_u32(a.cluster_list, 4), 0x0A000002U);
    EXPECT_EQ(a.aigp, 0x0102030405060708ULL);
    EXPECT_EQ(a.otc, 64512U);
    EXPECT_EQ(a.as4_path.to_owned(), (AsPath{{AsSegmentType::AsSequence, {200000}}}));
    EXPECT_EQ(a.as4_aggregator.asn, 300000U);
    EXPECT_EQ(a.as4_aggregator.address, 0xC000020AU);
    EXPECT_EQ(a.unknown_count(), 1U);
    EXPECT_TRUE(a.seen[200]);
    EXPECT_FALSE(a.present[200]);
    for (const T t :
         {T::Origin, T::AsPath, T::NextHop, T::MultiExitDisc, T::LocalPref, T::AtomicAggregate,
          T::Aggregator, T::Communities, T::ExtendedCommunities, T::LargeCommunities,
          T::OriginatorId, T::ClusterList, T::Aigp, T::Otc, T::As4Path, T::As4Aggregator}) {
      EXPECT_TRUE(a.has(t)) << to_string(t);
    }
    const AttributeBuilder rebuilt = AttributeBuilder::from_block(a.block);
    EXPECT_EQ(rebuilt.items(), b.items());
    EXPECT_EQ(encode(rebuilt), bytes);
  }
}

TEST(AttributeBuilder, TwoOctetAsPathAndAggregator) {
  AttributeBuilder b;
  b.as_path({{AsSegmentType::AsSequence, {65000, 200000}}}, 2).aggregator({200000, 0x01020304}, 2);
  const Bytes expected = {
      0x40, 0x02, 0x06, 0x02, 0x02, 0xFD, 0xE8, 0x5B, 0xA0,  // AS_PATH 65000 23456 (AS_TRANS)
      0xC0, 0x07, 0x06, 0x5B, 0xA0, 0x01, 0x02, 0x03, 0x04,  // AGGREGATOR 23456 1.2.3.4
  };
  EXPECT_EQ(encode(b), expected);
  const PathAttributes two = parse(expected, ctx_as2());
  EXPECT_TRUE(two.diagnostics.ok());
  EXPECT_EQ(two.as_path.to_owned(), (AsPath{{AsSegmentType::AsSequence, {65000, 23456}}}));
  EXPECT_EQ(two.aggregator.asn, 23456U);
  EXPECT_EQ(two.aggregator.address, 0x01020304U);
  // The same bytes under a 4-octet context: the AS_PATH does not fit (treat-as-withdraw) and
  // a 6-octet AGGREGATOR is the wrong length (discarded).
  const PathAttributes four = parse(expected);
  EXPECT_EQ(four.diagnostics.error_count, 2);
  EXPECT_EQ(four.diagnostics.reaction, Reaction::TreatAsWithdraw);
  EXPECT_EQ(four.diagnostics.first.subcode, update_subcode::kMalformedAsPath);
  EXPECT_EQ(four.diagnostics.first.offset, 3U);
  EXPECT_FALSE(four.has(T::AsPath));
  EXPECT_FALSE(four.has(T::Aggregator));
  expect_bytes_round_trip(expected, ctx_as2());
}

TEST(AttributeBuilder, FourOctetAggregatorUnderTwoOctetContextIsDiscarded) {
  const Bytes b = {
      0xC0, 0x07, 0x08,        // AGGREGATOR, length 8
      0x00, 0x03, 0x0D, 0x40,  // AS 200000
      0x01, 0x02, 0x03, 0x04,  // 1.2.3.4
  };
  const PathAttributes four = parse(b);
  EXPECT_TRUE(four.diagnostics.ok());
  EXPECT_EQ(four.aggregator.asn, 200000U);
  const PathAttributes two = parse(b, ctx_as2(), {}, 23);
  expect_one_error(two, ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::AttributeDiscard, 23);
  EXPECT_FALSE(two.has(T::Aggregator));
}

TEST(AttributeBuilder, LongValuesUseExtendedLength) {
  std::vector<std::uint32_t> many(100);
  for (std::size_t i = 0; i < many.size(); ++i) {
    many[i] = static_cast<std::uint32_t>(0x00010000 + i);
  }
  AttributeBuilder b;
  b.communities(many);
  const Bytes bytes = encode(b);
  ASSERT_EQ(bytes.size(), 4 + 400U);
  EXPECT_EQ(bytes[0], 0xD0);  // optional transitive + extended length
  EXPECT_EQ(bytes[2], 0x01);  // length 400
  EXPECT_EQ(bytes[3], 0x90);
  const PathAttributes a = parse(bytes);
  EXPECT_TRUE(a.diagnostics.ok());
  EXPECT_EQ(a.communities.size(), 400U);
  expect_bytes_round_trip(bytes);
}

TEST(AttributeBuilder, ExtendedLengthOnShortValuesIsKept) {
  const Bytes b = {
      0x50, 0x01, 0x00, 0x01, 0x00,  // ORIGIN IGP with the extended-length flag
      0x90, 0x0E, 0x00, 0x0E,        // MP_REACH_NLRI, 2-octet length 14
      0x00, 0x02, 0x01,              //   IPv6 unicast
      0x08, 0x20, 0x01, 0x0D, 0xB8,  //   next-hop length 8 (not a known form, and invalid)
      0,    0,    0,    1,    0x00,  //   ..., reserved
      0x00,                          //   ::/0
  };
  const PathAttributes a = parse(b);
  EXPECT_TRUE(a.has(T::Origin));
  EXPECT_EQ(a.diagnostics.reaction, Reaction::AfiSafiDisable);  // 8-octet IPv6 next hop
  expect_bytes_round_trip(b);
}

TEST(AttributeBuilder, UnknownAttributesSurviveRaw) {
  const Bytes b = {
      0xC0, 0xC8, 0x02, 0xAB, 0xCD,  // type 200, optional transitive, 2 octets
      0x80, 0xC9, 0x00,              // type 201, optional non-transitive, empty
      0xE0, 0x0B, 0x01, 0x07,        // DPA (11, deprecated), partial
  };
  const PathAttributes a = parse(b);
  EXPECT_TRUE(a.diagnostics.ok());
  EXPECT_EQ(a.unknown_count(), 3U);
  EXPECT_TRUE(a.present.none());
  expect_bytes_round_trip(b);
  RawAttributeIterator it(a.block, 100);
  RawAttribute raw;
  ASSERT_TRUE(it.next(raw));
  EXPECT_EQ(raw.type, 200);
  EXPECT_TRUE(raw.optional() && raw.transitive() && !raw.partial() && !raw.extended_length());
  EXPECT_EQ(raw.offset, 100U);
  ASSERT_TRUE(it.next(raw));
  EXPECT_EQ(raw.offset, 105U);
  ASSERT_TRUE(it.next(raw));
  EXPECT_TRUE(raw.partial());
  EXPECT_FALSE(it.next(raw));
}

// ---- MP_REACH_NLRI next-hop forms -------------------------------------------------------------

struct NextHopCase {
  const char* name;
  AfiSafi family;
  Bytes next_hop;
  const char* global;
  const char* link_local;  // nullptr when none
  bool rd;
};

Bytes v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return {a, b, c, d};
}
Bytes v6(std::uint8_t first, std::uint8_t last) {
  Bytes b(16, 0);
  b[0] = first;
  b[1] = first == 0xFE ? 0x80 : 0x01;
  if (first != 0xFE) {
    b[2] = 0x0D;
    b[3] = 0xB8;
  }
  b[15] = last;
  return b;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

TEST(MpReach, EveryNextHopFormRoundTrips) {
  const Bytes rd(8, 0);
  const Bytes rd1 = {0x00, 0x00, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x01};  // RD type 0 65000:1
  const std::vector<NextHopCase> cases = {
      {"ipv4 4", kIpv4Unicast, v4(192, 0, 2, 1), "192.0.2.1", nullptr, false},
      {"ipv4 multicast 4", kIpv4Multicast, v4(192, 0, 2, 2), "192.0.2.2", nullptr, false},
      {"ipv4 16 (RFC 8950)", kIpv4Unicast, v6(0x20, 1), "2001:db8::1", nullptr, false},
      {"ipv4 32 (RFC 8950)", kIpv4Unicast, cat({v6(0x20, 1), v6(0xFE, 1)}), "2001:db8::1",
       "fe80::1", false},
      {"ipv6 16", kIpv6Unicast, v6(0x20, 2), "2001:db8::2", nullptr, false},
      {"ipv6 32", kIpv6Unicast, cat({v6(0x20, 2), v6(0xFE, 2)}), "2001:db8::2", "fe80::2", false},
      {"ipv6 32 zero link-local", kIpv6Unicast, cat({v6(0x20, 3), Bytes(16, 0)}), "2001:db8::3",
       "::", false},
      {"ipv6 multicast 16", kIpv6Multicast, v6(0x20, 4), "2001:db8::4", nullptr, false},
      {"vpnv4 12", kVpnV4, cat({rd, v4(192, 0, 2, 3)}), "192.0.2.3", nullptr, true},
      {"vpnv4 24 (RFC 8950)", kVpnV4, cat({rd, v6(0x20, 5)}), "2001:db8::5", nullptr, true},
      {"vpnv4 48 (RFC 8950)", kVpnV4, cat({rd, v6(0x20, 6), rd, v6(0xFE, 6)}), "2001:db8::6",
       "fe80::6", true},
      {"vpnv6 24", kVpnV6, cat({rd1, v6(0x20, 7)}), "2001:db8::7", nullptr, true},
      {"vpnv6 48", kVpnV6, cat({rd, v6(0x20, 8), rd, v6(0xFE, 8)}), "2001:db8::8", "fe80::8", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const bool plain = is_plain_prefix_family(c.family);
    const std::vector<Prefix> prefixes =
        !plain ? std::vector<Prefix>{}
        : c.family.afi == Afi::Ipv4
            ? std::vector<Prefix>{pfx("192.0.2.0/24"), pfx("198.51.100.0/22")}
            : std::vector<Prefix>{pfx("2001:db8:10::/48"), pfx("2001:db8:20::/44")};
    for (bool add_path : {false, true}) {
      const std::array<std::uint32_t, 2> ids = {11, 12};
      AttributeBuilder b;
      b.mp_reach(c.family, c.next_hop, prefixes,
                 add_path && plain ? std::span<const std::uint32_t>(ids)
                                   : std::span<const std::uint32_t>());
      const Bytes bytes = encode(b);
      ParseContext ctx;
      ctx.set_add_path(c.family, add_path);
      const PathAttributes a = parse(bytes, ctx);
      ASSERT_TRUE(a.diagnostics.ok()) << a.diagnostics.first.message;
      ASSERT_TRUE(a.has(T::MpReachNlri));
      const MpReach& mp = a.mp_reach;
      EXPECT_EQ(mp.family, c.family);
      EXPECT_FALSE(mp.abbreviated);
      EXPECT_TRUE(mp.next_hop.valid);
      EXPECT_EQ(mp.next_hop.raw.size(), c.next_hop.size());
      EXPECT_EQ(mp.next_hop.global.to_string(), c.global);
      EXPECT_EQ(mp.next_hop.has_link_local, c.link_local != nullptr);
      if (c.link_local != nullptr) {
        EXPECT_EQ(mp.next_hop.link_local.to_string(), c.link_local);
      }
      EXPECT_EQ(mp.next_hop.has_rd, c.rd);
      if (c.rd) {
        EXPECT_EQ(mp.next_hop.rd, wire::load_u32(c.next_hop, 0) == 0 ? 0U : 0x0000FDE800000001U);
      }
      EXPECT_EQ(mp.nlri.count(), prefixes.size());
      std::size_t i = 0;
      for (const auto& n : mp.nlri) {
        EXPECT_EQ(n.prefix(), prefixes[i]);
        EXPECT_EQ(n.path_id, add_path ? ids[i] : 0U);
        ++i;
      }
      expect_bytes_round_trip(bytes, ctx);
    }
  }
}

TEST(MpReach, FlowspecHasNoNextHop) {
  const Bytes b = {
      0x80, 0x0E, 0x0A,        // MP_REACH_NLRI, length 10
      0x00, 0x01, 0x85,        // IPv4 flowspec (1/133)
      0x00,                    // next-hop length 0
      0x00,                    // reserved
      0x05, 0x01, 0x18, 0xC0,  // flowspec NLRI (opaque): length 5, dst prefix 192.0.2/24
      0x00,
  };
  const PathAttributes a = parse(b);
  // 10 bytes: 3 + 1 + 0 + 1 + 5
  EXPECT_TRUE(a.diagnostics.ok());
  EXPECT_TRUE(a.mp_reach.next_hop.valid);
  EXPECT_FALSE(a.mp_reach.nlri.decoded());
  EXPECT_EQ(a.mp_reach.nlri.bytes().size(), 5U);
  expect_bytes_round_trip(b);
}

TEST(MpReach, AbbreviatedFormInMrtRibEntries) {
  struct Case {
    AfiSafi family;
    Bytes next_hop;
    const char* global;
    bool link_local;
  };
  const std::vector<Case> cases = {
      {kIpv4Unicast, v4(192, 0, 2, 1), "192.0.2.1", false},
      {kIpv4Multicast, v4(192, 0, 2, 9), "192.0.2.9", false},
      {kIpv6Unicast, v6(0x20, 1), "2001:db8::1", false},
      {kIpv6Unicast, cat({v6(0x20, 1), v6(0xFE, 1)}), "2001:db8::1", true},
      {kIpv6Multicast, v6(0x20, 2), "2001:db8::2", false},
  };
  for (const auto& c : cases) {
    AttributeBuilder b;
    b.mp_reach_abbreviated(c.next_hop);
    const Bytes bytes = encode(b);
    ASSERT_EQ(bytes.size(), 3 + 1 + c.next_hop.size());
    const PathAttributes a = parse(bytes, {}, AttributeOptions{true, c.family});
    EXPECT_TRUE(a.diagnostics.ok());
    EXPECT_TRUE(a.mp_reach.abbreviated);
    EXPECT_EQ(a.mp_reach.family, c.family);
    EXPECT_TRUE(a.mp_reach.next_hop.valid);
    EXPECT_EQ(a.mp_reach.next_hop.global.to_string(), c.global);
    EXPECT_EQ(a.mp_reach.next_hop.has_link_local, c.link_local);
    EXPECT_TRUE(a.mp_reach.nlri.empty());
    expect_bytes_round_trip(bytes);
  }
}

TEST(MpReach, FullFormInMrtRibEntriesIsStillRead) {
  // Older RIS bviews write the whole MP_REACH in RIB entries.
  AttributeBuilder b;
  const std::array<Prefix, 1> prefixes = {pfx("2001:db8::/32")};
  b.mp_reach(kIpv6Unicast, v6(0x20, 1), prefixes);
  const Bytes bytes = encode(b);
  const PathAttributes a = parse(bytes, {}, AttributeOptions{true, kIpv6Unicast});
  EXPECT_TRUE(a.diagnostics.ok());
  EXPECT_FALSE(a.mp_reach.abbreviated);
  EXPECT_EQ(texts(a.mp_reach.nlri), (std::vector<std::string>{"2001:db8::/32"}));
}

TEST(MpUnreach, RoundTripsWithAndWithoutAddPath) {
  for (const AfiSafi family : {kIpv4Unicast, kIpv4Multicast, kIpv6Unicast, kIpv6Multicast}) {
    const std::vector<Prefix> prefixes = family.afi == Afi::Ipv4
                                             ? std::vector<Prefix>{pfx("10.1.0.0/16")}
                                             : std::vector<Prefix>{pfx("2001:db8:1::/48")};
    for (bool add_path : {false, true}) {
      const std::array<std::uint32_t, 1> ids = {99};
      AttributeBuilder b;
      b.mp_unreach(
          family, prefixes,
          add_path ? std::span<const std::uint32_t>(ids) : std::span<const std::uint32_t>());
      const Bytes bytes = encode(b);
      ParseContext ctx;
      ctx.set_add_path(family, add_path);
      const PathAttributes a = parse(bytes, ctx);
      ASSERT_TRUE(a.diagnostics.ok());
      EXPECT_EQ(a.mp_unreach.family, family);
      ASSERT_EQ(a.mp_unreach.withdrawn.count(), 1U);
      EXPECT_EQ(a.mp_unreach.withdrawn.begin()->prefix(), prefixes[0]);
      EXPECT_EQ(a.mp_unreach.withdrawn.begin()->path_id, add_path ? 99U : 0U);
      expect_bytes_round_trip(bytes, ctx);
    }
  }
}

TEST(DecodeNextHop, InvalidLengths) {
  const Bytes five(5, 1);
  EXPECT_FALSE(decode_next_hop(kIpv4Unicast, five).valid);
  EXPECT_FALSE(decode_next_hop(kIpv6Unicast, v4(1, 2, 3, 4)).valid);
  EXPECT_FALSE(decode_next_hop(kVpnV4, v4(1, 2, 3, 4)).valid);
  EXPECT_FALSE(decode_next_hop(AfiSafi{Afi::Ipv4, Safi::FlowSpec}, v4(1, 2, 3, 4)).valid);
  EXPECT_FALSE(decode_next_hop(kIpv6Unicast, {}).valid);
}

// ---- RFC 7606 malformed attributes (PROTOCOLS.md 5.3 and 5.4) ------------------------------

TEST(AttributesMalformed, OriginLengthNotOne) {
  const Bytes b = {
      0x40, 0x01, 0x02,  // ORIGIN, length 2
      0x00, 0x00,        // value
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::TreatAsWithdraw, 23);
  EXPECT_FALSE(a.has(T::Origin));
  EXPECT_TRUE(a.seen[1]);
}

TEST(AttributesMalformed, OriginValueAboveTwo) {
  const Bytes b = {
      0x40, 0x01, 0x01,  // ORIGIN, length 1
      0x03,              // 3: not IGP/EGP/INCOMPLETE
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kInvalidOrigin,
                   Reaction::TreatAsWithdraw, 23);
  EXPECT_FALSE(a.has(T::Origin));
}

TEST(AttributesMalformed, AsPathBadSegmentType) {
  const Bytes b = {
      0x40, 0x02, 0x04,  // AS_PATH, length 4
      0x05, 0x01,        // segment type 5, 1 ASN
      0x00, 0x01,        // AS 1 (2-octet)
  };
  const PathAttributes a = parse(b, ctx_as2(), {}, 23);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kMalformedAsPath,
                   Reaction::TreatAsWithdraw, 26);
  EXPECT_FALSE(a.has(T::AsPath));
}

TEST(AttributesMalformed, AsPathSegmentCountZero) {
  const Bytes b = {
      0x40, 0x02, 0x02,  // AS_PATH, length 2
      0x02, 0x00,        // AS_SEQUENCE, 0 ASNs
  };
  expect_one_error(parse(b), ErrorKind::BadLength, update_subcode::kMalformedAsPath,
                   Reaction::TreatAsWithdraw, 4);
}

TEST(AttributesMalformed, AsPathSegmentOverrun) {
  const Bytes b = {
      0x40, 0x02, 0x06,        // AS_PATH, length 6
      0x02, 0x02,              // AS_SEQUENCE, 2 ASNs (8 octets needed)
      0x00, 0x00, 0xFD, 0xE8,  // 65000
  };
  expect_one_error(parse(b), ErrorKind::Truncated, update_subcode::kMalformedAsPath,
                   Reaction::TreatAsWithdraw, 3);
}

TEST(AttributesMalformed, AsPathAsZero) {
  const Bytes b = {
      0x40, 0x02, 0x0A,        // AS_PATH, length 10
      0x02, 0x02,              // AS_SEQUENCE, 2 ASNs
      0x00, 0x00, 0xFD, 0xE8,  // 65000
      0x00, 0x00, 0x00, 0x00,  // AS 0 (RFC 7607)
  };
  expect_one_error(parse(b, {}, {}, 23), ErrorKind::BadValue, update_subcode::kMalformedAsPath,
                   Reaction::TreatAsWithdraw, 32);
}

TEST(AttributesMalformed, NextHopLengthNotFour) {
  const Bytes b = {
      0x40, 0x03, 0x05,              // NEXT_HOP, length 5
      0xC0, 0x00, 0x02, 0x01, 0x00,  // value
  };
  expect_one_error(parse(b), ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, MedLengthNotFour) {
  const Bytes b = {
      0x80, 0x04, 0x03,  // MULTI_EXIT_DISC, length 3
      0x00, 0x00, 0x01,  // value
  };
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::TreatAsWithdraw, 0);
  EXPECT_FALSE(a.has(T::MultiExitDisc));
}

TEST(AttributesMalformed, LocalPrefFromExternalPeerIsDiscarded) {
  const Bytes b = {
      0x40, 0x05, 0x04,        // LOCAL_PREF, length 4
      0x00, 0x00, 0x00, 0x64,  // 100
  };
  const PathAttributes a = parse(b, ctx_ebgp(), {}, 23);
  EXPECT_EQ(a.diagnostics.error_count, 1);
  EXPECT_EQ(a.diagnostics.reaction, Reaction::AttributeDiscard);
  EXPECT_EQ(a.diagnostics.first.offset, 23U);
  EXPECT_FALSE(a.has(T::LocalPref));
  // Whatever its length.
  const Bytes short_value = {
      0x40, 0x05, 0x03,  // LOCAL_PREF, length 3
      0x00, 0x00, 0x64,  // value
  };
  const PathAttributes s = parse(short_value, ctx_ebgp());
  EXPECT_EQ(s.diagnostics.reaction, Reaction::AttributeDiscard);
}

TEST(AttributesMalformed, LocalPrefLengthNotFourFromInternalPeer) {
  const Bytes b = {
      0x40, 0x05, 0x03,  // LOCAL_PREF, length 3
      0x00, 0x00, 0x64,  // value
  };
  expect_one_error(parse(b, ctx_ibgp()), ErrorKind::BadLength,
                   update_subcode::kAttributeLengthError, Reaction::TreatAsWithdraw, 0);
  // Session kind unknown (MRT, BMP): only the length is checked.
  expect_one_error(parse(b), ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, AtomicAggregateLengthNotZero) {
  const Bytes b = {
      0x40, 0x06, 0x01,  // ATOMIC_AGGREGATE, length 1
      0x00,              // value
  };
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::AttributeDiscard, 0);
  EXPECT_FALSE(a.has(T::AtomicAggregate));
}

TEST(AttributesMalformed, AggregatorWrongLength) {
  const Bytes b = {
      0xC0, 0x07, 0x07,                    // AGGREGATOR, length 7
      0x00, 0x00, 0xFD, 0xE8, 0x01, 0x02,  // 6 of 8 octets...
      0x03,                                // ...and one more
  };
  expect_one_error(parse(b), ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::AttributeDiscard, 0);
  expect_one_error(parse(b, ctx_as2()), ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::AttributeDiscard, 0);
}

TEST(AttributesMalformed, AggregatorAsZero) {
  const Bytes four = {
      0xC0, 0x07, 0x08,        // AGGREGATOR, length 8
      0x00, 0x00, 0x00, 0x00,  // AS 0
      0xC0, 0x00, 0x02, 0x01,  // 192.0.2.1
  };
  const PathAttributes a = parse(four, {}, {}, 40);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kOptionalAttributeError,
                   Reaction::AttributeDiscard, 40);
  EXPECT_FALSE(a.has(T::Aggregator));
  const Bytes two = {
      0xC0, 0x07, 0x06,        // AGGREGATOR, length 6
      0x00, 0x00,              // AS 0
      0xC0, 0x00, 0x02, 0x01,  // 192.0.2.1
  };
  expect_one_error(parse(two, ctx_as2()), ErrorKind::BadValue,
                   update_subcode::kOptionalAttributeError, Reaction::AttributeDiscard, 0);
}

TEST(AttributesMalformed, CommunitiesLengthZeroOrNotMultipleOfFour) {
  const Bytes empty = {
      0xC0, 0x08, 0x00,  // COMMUNITIES, length 0
  };
  expect_one_error(parse(empty), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
  const Bytes five = {
      0xC0, 0x08, 0x05,              // COMMUNITIES, length 5
      0xFF, 0xFF, 0xFF, 0x01, 0x00,  // NO_EXPORT and a stray octet
  };
  const PathAttributes a = parse(five);
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
  EXPECT_FALSE(a.has(T::Communities));
}

TEST(AttributesMalformed, OriginatorIdFromExternalPeerIsDiscarded) {
  const Bytes b = {
      0x80, 0x09, 0x04,        // ORIGINATOR_ID, length 4
      0x0A, 0x00, 0x00, 0x01,  // 10.0.0.1
  };
  const PathAttributes a = parse(b, ctx_ebgp());
  EXPECT_EQ(a.diagnostics.reaction, Reaction::AttributeDiscard);
  EXPECT_EQ(a.diagnostics.first.offset, 0U);
  EXPECT_FALSE(a.has(T::OriginatorId));
  EXPECT_TRUE(parse(b, ctx_ibgp()).has(T::OriginatorId));
}

TEST(AttributesMalformed, OriginatorIdLengthNotFourFromInternalPeer) {
  const Bytes b = {
      0x80, 0x09, 0x05,              // ORIGINATOR_ID, length 5
      0x0A, 0x00, 0x00, 0x01, 0x00,  // value
  };
  expect_one_error(parse(b, ctx_ibgp()), ErrorKind::BadLength,
                   update_subcode::kAttributeLengthError, Reaction::TreatAsWithdraw, 0);
  EXPECT_EQ(parse(b, ctx_ebgp()).diagnostics.reaction, Reaction::AttributeDiscard);
}

TEST(AttributesMalformed, ClusterListFromExternalPeerIsDiscarded) {
  const Bytes b = {
      0x80, 0x0A, 0x04,        // CLUSTER_LIST, length 4
      0x0A, 0x00, 0x00, 0x02,  // 10.0.0.2
  };
  const PathAttributes a = parse(b, ctx_ebgp());
  EXPECT_EQ(a.diagnostics.reaction, Reaction::AttributeDiscard);
  EXPECT_FALSE(a.has(T::ClusterList));
  EXPECT_TRUE(parse(b, ctx_ibgp()).has(T::ClusterList));
}

TEST(AttributesMalformed, ClusterListBadLengthFromInternalPeer) {
  const Bytes empty = {
      0x80, 0x0A, 0x00,  // CLUSTER_LIST, length 0
  };
  expect_one_error(parse(empty, ctx_ibgp()), ErrorKind::BadLength,
                   update_subcode::kAttributeLengthError, Reaction::TreatAsWithdraw, 0);
  const Bytes six = {
      0x80, 0x0A, 0x06,                    // CLUSTER_LIST, length 6
      0x0A, 0x00, 0x00, 0x02, 0x00, 0x00,  // value
  };
  expect_one_error(parse(six, ctx_ibgp()), ErrorKind::BadLength,
                   update_subcode::kAttributeLengthError, Reaction::TreatAsWithdraw, 0);
  EXPECT_EQ(parse(six, ctx_ebgp()).diagnostics.reaction, Reaction::AttributeDiscard);
}

TEST(AttributesMalformed, SessionKindDecidesIbgpOnlyAttributes) {
  const Bytes b = {
      0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,  // LOCAL_PREF 100
      0x80, 0x09, 0x04, 0x0A, 0x00, 0x00, 0x01,  // ORIGINATOR_ID 10.0.0.1
      0x80, 0x0A, 0x04, 0x0A, 0x00, 0x00, 0x02,  // CLUSTER_LIST 10.0.0.2
  };
  const PathAttributes e = parse(b, ctx_ebgp());
  EXPECT_EQ(e.diagnostics.error_count, 3);
  EXPECT_EQ(e.diagnostics.reaction, Reaction::AttributeDiscard);
  EXPECT_FALSE(e.has(T::LocalPref) || e.has(T::OriginatorId) || e.has(T::ClusterList));
  for (const ParseContext& c : {ctx_ibgp(), ParseContext{}}) {
    const PathAttributes i = parse(b, c);
    EXPECT_TRUE(i.diagnostics.ok());
    EXPECT_EQ(i.local_pref, 100U);
    EXPECT_EQ(i.originator_id, 0x0A000001U);
    EXPECT_EQ(i.cluster_list.size(), 4U);
  }
}

TEST(AttributesMalformed, IbgpOnlyAttributesWithBadFlagsFromExternalPeerAreDiscarded) {
  // RFC 7606 7.5/7.9/7.10 say "discard" for anything from an external peer; that takes
  // precedence over the flags rule (3(c) defers to the attribute's own specification).
  const Bytes b = {
      0xC0, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,  // LOCAL_PREF with the optional bit set
      0x40, 0x09, 0x04, 0x0A, 0x00, 0x00, 0x01,  // ORIGINATOR_ID marked well-known
      0xC0, 0x0A, 0x04, 0x0A, 0x00, 0x00, 0x02,  // CLUSTER_LIST marked transitive
  };
  const PathAttributes e = parse(b, ctx_ebgp());
  EXPECT_EQ(e.diagnostics.reaction, Reaction::AttributeDiscard);
  EXPECT_FALSE(e.has(T::LocalPref) || e.has(T::OriginatorId) || e.has(T::ClusterList));
  const PathAttributes i = parse(b, ctx_ibgp());
  EXPECT_EQ(i.diagnostics.reaction, Reaction::TreatAsWithdraw);
  EXPECT_EQ(i.diagnostics.first.subcode, update_subcode::kAttributeFlagsError);
}

TEST(AttributesMalformed, MpReachTooShortForAfiSafi) {
  const Bytes b = {
      0x80, 0x0E, 0x02,  // MP_REACH_NLRI, length 2
      0x00, 0x02,        // AFI 2, no SAFI
  };
  expect_one_error(parse(b, {}, {}, 23), ErrorKind::Truncated,
                   update_subcode::kOptionalAttributeError, Reaction::SessionReset, 23);
}

TEST(AttributesMalformed, MpReachNextHopOverrunsAttribute) {
  const Bytes b = {
      0x80, 0x0E, 0x06,  // MP_REACH_NLRI, length 6
      0x00, 0x02, 0x01,  // IPv6 unicast
      0x10,              // next-hop length 16
      0x20, 0x01,        // 2 of 16 octets
  };
  expect_one_error(parse(b, {}, {}, 23), ErrorKind::Truncated,
                   update_subcode::kOptionalAttributeError, Reaction::AfiSafiDisable, 29);
}

TEST(AttributesMalformed, MpReachMissingReservedOctet) {
  const Bytes b = {
      0x80, 0x0E, 0x08,        // MP_REACH_NLRI, length 8
      0x00, 0x01, 0x01,        // IPv4 unicast
      0x04,                    // next-hop length 4
      0xC0, 0x00, 0x02, 0x01,  // 192.0.2.1, then no reserved octet
  };
  expect_one_error(parse(b), ErrorKind::Truncated, update_subcode::kOptionalAttributeError,
                   Reaction::AfiSafiDisable, 6);
}

TEST(AttributesMalformed, MpReachBadNextHopLength) {
  const Bytes b = {
      0x80, 0x0E, 0x0A,        // MP_REACH_NLRI, length 10
      0x00, 0x02, 0x01,        // IPv6 unicast
      0x04,                    // next-hop length 4: not an IPv6 form
      0xC0, 0x00, 0x02, 0x01,  // 192.0.2.1
      0x00,                    // reserved
      0x00,                    // ::/0
  };
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kOptionalAttributeError,
                   Reaction::AfiSafiDisable, 6);
  EXPECT_FALSE(a.has(T::MpReachNlri));
  EXPECT_EQ(a.mp_reach.family, kIpv6Unicast);  // the family to disable is known
}

TEST(AttributesMalformed, MpReachNlriOverrun) {
  const Bytes b = {
      0x80, 0x0E, 0x0C,        // MP_REACH_NLRI, length 12
      0x00, 0x01, 0x02,        // IPv4 multicast
      0x04,                    // next-hop length 4
      0xC0, 0x00, 0x02, 0x01,  // 192.0.2.1
      0x00,                    // reserved
      0x18, 0xC6, 0x33,        // /24 with two of its three octets
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::Truncated, update_subcode::kInvalidNetworkField,
                   Reaction::AfiSafiDisable, 35);
  EXPECT_FALSE(a.has(T::MpReachNlri));
}

TEST(AttributesMalformed, MpReachPrefixLengthAbove128) {
  const Bytes b = {
      0x80, 0x0E, 0x16,                                            // MP_REACH_NLRI, length 22
      0x00, 0x02, 0x01,                                            // IPv6 unicast
      0x10,                                                        // next-hop length 16
      0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  // 2001:db8::1
      0x00,                                                        // reserved
      0x81,                                                        // prefix length 129
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kInvalidNetworkField,
                   Reaction::AfiSafiDisable, 24);
}

TEST(AttributesMalformed, MpReachAddPathTruncation) {
  const Bytes b = {
      0x80, 0x0E, 0x0C,        // MP_REACH_NLRI, length 12
      0x00, 0x01, 0x01,        // IPv4 unicast
      0x04,                    // next-hop length 4
      0xC0, 0x00, 0x02, 0x01,  // 192.0.2.1
      0x00,                    // reserved
      0x00, 0x00, 0x00,        // 3 octets of a path identifier
  };
  ParseContext ctx;
  ctx.set_add_path(kIpv4Unicast, true);
  expect_one_error(parse(b, ctx), ErrorKind::Truncated, update_subcode::kInvalidNetworkField,
                   Reaction::AfiSafiDisable, 12);
}

TEST(AttributesMalformed, MpUnreachTooShortForAfiSafi) {
  const Bytes b = {
      0x80, 0x0F, 0x01,  // MP_UNREACH_NLRI, length 1
      0x00,              // half an AFI
  };
  expect_one_error(parse(b), ErrorKind::Truncated, update_subcode::kOptionalAttributeError,
                   Reaction::SessionReset, 0);
}

TEST(AttributesMalformed, MpUnreachNlriOverrun) {
  const Bytes b = {
      0x80, 0x0F, 0x06,  // MP_UNREACH_NLRI, length 6
      0x00, 0x02, 0x01,  // IPv6 unicast
      0x30, 0x20, 0x01,  // /48 with two of six octets
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::Truncated, update_subcode::kInvalidNetworkField,
                   Reaction::AfiSafiDisable, 29);
  EXPECT_FALSE(a.has(T::MpUnreachNlri));
  EXPECT_EQ(a.mp_unreach.family, kIpv6Unicast);
}

TEST(AttributesMalformed, ExtendedCommunitiesLength) {
  const Bytes empty = {
      0xC0, 0x10, 0x00,  // EXTENDED_COMMUNITIES, length 0
  };
  expect_one_error(parse(empty), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
  const Bytes twelve = {
      0xC0, 0x10, 0x0C,                                // EXTENDED_COMMUNITIES, length 12
      0x00, 0x02, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x64,  // RT 65000:100
      0x00, 0x02, 0xFD, 0xE8,                          // half of another
  };
  expect_one_error(parse(twelve), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, Ipv6ExtendedCommunitiesLength) {
  Bytes b = {
      0xC0, 0x19, 0x15,  // IPv6 address-specific extended communities, length 21
  };
  b.resize(3 + 21, 0x00);
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
  Bytes ok = {
      0xC0, 0x19, 0x14,  // length 20
  };
  ok.resize(3 + 20, 0x01);
  const PathAttributes good = parse(ok);
  EXPECT_TRUE(good.diagnostics.ok());
  EXPECT_EQ(good.ipv6_extended_communities.size(), 20U);
}

TEST(AttributesMalformed, As4PathMalformedIsDiscarded) {
  const Bytes b = {
      0xC0, 0x11, 0x06,        // AS4_PATH, length 6
      0x02, 0x01,              // AS_SEQUENCE, 1 ASN
      0x00, 0x00, 0x00, 0x00,  // AS 0
  };
  const PathAttributes a = parse(b, ctx_as2(), {}, 23);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kOptionalAttributeError,
                   Reaction::AttributeDiscard, 28);
  EXPECT_FALSE(a.has(T::As4Path));
}

TEST(AttributesMalformed, As4AggregatorWrongLengthIsDiscarded) {
  const Bytes b = {
      0xC0, 0x12, 0x06,                    // AS4_AGGREGATOR, length 6
      0x00, 0x01, 0xC0, 0x00, 0x02, 0x01,  // a 2-octet AS + address
  };
  const PathAttributes a = parse(b, ctx_as2());
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::AttributeDiscard, 0);
  EXPECT_FALSE(a.has(T::As4Aggregator));
}

TEST(AttributesMalformed, As4AttributesOnFourOctetSessionAreDiscarded) {
  const Bytes b = {
      0xC0, 0x11, 0x06,                                // AS4_PATH, length 6
      0x02, 0x01, 0x00, 0x03, 0x0D, 0x40,              //   AS_SEQUENCE 200000
      0xC0, 0x12, 0x08,                                // AS4_AGGREGATOR, length 8 (offset 9)
      0x00, 0x03, 0x0D, 0x40, 0xC0, 0x00, 0x02, 0x09,  //   200000 192.0.2.9
  };
  const PathAttributes four = parse(b, {}, {}, 23);
  EXPECT_EQ(four.diagnostics.error_count, 2);
  EXPECT_EQ(four.diagnostics.reaction, Reaction::AttributeDiscard);
  EXPECT_EQ(four.diagnostics.first.subcode, update_subcode::kOptionalAttributeError);
  EXPECT_EQ(four.diagnostics.first.offset, 23U);
  EXPECT_FALSE(four.has(T::As4Path) || four.has(T::As4Aggregator));
  const PathAttributes two = parse(b, ctx_as2());
  EXPECT_TRUE(two.diagnostics.ok());
  EXPECT_TRUE(two.has(T::As4Path) && two.has(T::As4Aggregator));
  expect_bytes_round_trip(b);
}

TEST(AttributesMalformed, PmsiTunnelTooShort) {
  const Bytes b = {
      0xC0, 0x16, 0x04,        // PMSI_TUNNEL, length 4
      0x00, 0x06, 0x00, 0x00,  // flags, type, 2 of 3 label octets
  };
  expect_one_error(parse(b), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, TunnelEncapsulationWithoutValidTlv) {
  const Bytes empty = {
      0xC0, 0x17, 0x00,  // TUNNEL_ENCAPSULATION, length 0: no TLV
  };
  expect_one_error(parse(empty), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
  const Bytes overrun = {
      0xC0, 0x17, 0x06,  // TUNNEL_ENCAPSULATION, length 6
      0x00, 0x08,        // tunnel type 8 (VXLAN)
      0x00, 0x05,        // TLV length 5
      0x00, 0x00,        // only 2 octets
  };
  expect_one_error(parse(overrun), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
  const Bytes good = {
      0xC0, 0x17, 0x04,  // TUNNEL_ENCAPSULATION, length 4
      0x00, 0x08,        // VXLAN
      0x00, 0x00,        // no sub-TLVs
  };
  EXPECT_TRUE(parse(good).diagnostics.ok());
}

TEST(AttributesMalformed, TunnelEncapsulationTransitiveBitClear) {
  const Bytes b = {
      0x80, 0x17, 0x04,  // TUNNEL_ENCAPSULATION, optional but not transitive
      0x00, 0x08,        // VXLAN
      0x00, 0x00,        // no sub-TLVs
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, AigpWithoutMetricTlvIsDiscarded) {
  const Bytes b = {
      0x80, 0x1A, 0x05,  // AIGP, length 5
      0x02, 0x00, 0x05,  // TLV type 2, length 5 (header included)
      0x00, 0x00,        // value
  };
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::AttributeDiscard, 0);
  EXPECT_FALSE(a.has(T::Aigp));
  const Bytes overrun = {
      0x80, 0x1A, 0x04,        // AIGP, length 4
      0x01, 0x00, 0x0B, 0x00,  // metric TLV claiming 11 octets
  };
  EXPECT_EQ(parse(overrun).diagnostics.reaction, Reaction::AttributeDiscard);
}

TEST(AttributesMalformed, AigpWithWrongFlagsIsDiscarded) {
  const Bytes b = {
      0xC0, 0x1A, 0x0B,                                // AIGP marked transitive
      0x01, 0x00, 0x0B,                                // metric TLV, length 11
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A,  // 10
  };
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::AttributeDiscard, 0);
  EXPECT_FALSE(a.has(T::Aigp));
}

TEST(AttributesMalformed, BgpLsAttributeIsDiscarded) {
  const Bytes b = {
      0xC0, 0x1D, 0x00,  // BGP-LS attribute marked transitive, empty
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::AttributeDiscard, 0);
}

TEST(AttributesMalformed, LargeCommunityLength) {
  Bytes b = {
      0xC0, 0x20, 0x0D,  // LARGE_COMMUNITY, length 13
  };
  b.resize(3 + 13, 0x01);
  expect_one_error(parse(b), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
  const Bytes empty = {
      0xC0, 0x20, 0x00,  // LARGE_COMMUNITY, length 0
  };
  expect_one_error(parse(empty), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, BgpsecPathIsTreatAsWithdraw) {
  const Bytes b = {
      0xC0, 0x21, 0x00,  // BGPsec_Path marked transitive, empty
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, OtcLengthNotFour) {
  const Bytes b = {
      0xC0, 0x23, 0x03,  // OTC, length 3
      0x00, 0xFD, 0xE8,  // value
  };
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadLength, update_subcode::kAttributeLengthError,
                   Reaction::TreatAsWithdraw, 0);
  EXPECT_FALSE(a.has(T::Otc));
}

TEST(AttributesMalformed, PrefixSidIsDiscarded) {
  const Bytes b = {
      0x80, 0x28, 0x00,  // BGP Prefix-SID marked non-transitive, empty
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::AttributeDiscard, 0);
}

TEST(AttributesMalformed, AttrSetTooShort) {
  const Bytes b = {
      0xC0, 0x80, 0x03,  // ATTR_SET, length 3
      0x00, 0x00, 0x01,  // 3 of 4 origin AS octets
  };
  expect_one_error(parse(b), ErrorKind::BadLength, update_subcode::kOptionalAttributeError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, UnrecognizedWellKnownAttribute) {
  const Bytes b = {
      0x40, 0x01, 0x01, 0x00,  // ORIGIN IGP
      0x40, 0xC8, 0x01, 0x00,  // type 200 marked well-known
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kUnrecognizedWellKnownAttribute,
                   Reaction::SessionReset, 27);
}

TEST(AttributesMalformed, WellKnownAttributeWithOptionalFlag) {
  const Bytes b = {
      0xC0, 0x01, 0x01,  // ORIGIN flagged optional transitive
      0x00,              // IGP
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, WellKnownAttributeWithoutTransitiveFlag) {
  const Bytes b = {
      0x00, 0x03, 0x04,        // NEXT_HOP without the transitive bit
      0xC0, 0x00, 0x02, 0x01,  // 192.0.2.1
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, OptionalAttributeWithWellKnownFlags) {
  const Bytes b = {
      0x40, 0x04, 0x04,        // MULTI_EXIT_DISC flagged well-known
      0x00, 0x00, 0x00, 0x01,  // 1
  };
  expect_one_error(parse(b), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::TreatAsWithdraw, 0);
  const Bytes c = {
      0x80, 0x08, 0x04,        // COMMUNITIES without the transitive bit
      0xFF, 0xFF, 0xFF, 0x01,  // NO_EXPORT
  };
  expect_one_error(parse(c), ErrorKind::BadValue, update_subcode::kAttributeFlagsError,
                   Reaction::TreatAsWithdraw, 0);
}

TEST(AttributesMalformed, RepeatedAttributeKeepsTheFirst) {
  const Bytes b = {
      0x40, 0x01, 0x01, 0x02,  // ORIGIN INCOMPLETE
      0x40, 0x01, 0x01, 0x00,  // ORIGIN IGP again (offset 4)
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kMalformedAttributeList,
                   Reaction::AttributeDiscard, 27);
  EXPECT_EQ(a.origin, Origin::Incomplete);
}

TEST(AttributesMalformed, RepeatedMpReachResetsTheSession) {
  const Bytes b = {
      0x80, 0x0E, 0x05, 0x00, 0x02, 0x01, 0x00, 0x00,  // MP_REACH IPv6, no next hop, no NLRI
      0x80, 0x0E, 0x05, 0x00, 0x02, 0x01, 0x00, 0x00,  // the same again (offset 8)
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  // The first has an invalid (empty) IPv6 next hop: AFI/SAFI disable; the repeat resets.
  EXPECT_EQ(a.diagnostics.error_count, 2);
  EXPECT_EQ(a.diagnostics.reaction, Reaction::SessionReset);
  EXPECT_EQ(a.diagnostics.strongest.subcode, update_subcode::kMalformedAttributeList);
  EXPECT_EQ(a.diagnostics.strongest.offset, 31U);
}

TEST(AttributesMalformed, RepeatedMpUnreachResetsTheSession) {
  const Bytes b = {
      0x80, 0x0F, 0x03, 0x00, 0x01, 0x01,  // MP_UNREACH IPv4 unicast, empty
      0x80, 0x0F, 0x03, 0x00, 0x02, 0x01,  // MP_UNREACH IPv6 unicast (offset 6)
  };
  const PathAttributes a = parse(b);
  expect_one_error(a, ErrorKind::BadValue, update_subcode::kMalformedAttributeList,
                   Reaction::SessionReset, 6);
  EXPECT_EQ(a.mp_unreach.family, kIpv4Unicast);
}

TEST(AttributesMalformed, AttributeOverrunsBlockBeforeMpAttributes) {
  const Bytes b = {
      0x40, 0x01, 0x01, 0x00,  // ORIGIN IGP
      0x40, 0x02, 0x0A,        // AS_PATH, length 10...
      0x02, 0x01, 0x00,        // ...but only 3 octets left
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::Truncated, update_subcode::kMalformedAttributeList,
                   Reaction::SessionReset, 27);
  EXPECT_TRUE(a.has(T::Origin));
}

TEST(AttributesMalformed, AttributeOverrunsBlockAfterMpAttributes) {
  const Bytes b = {
      0x80, 0x0F, 0x03, 0x00, 0x02, 0x01,  // MP_UNREACH IPv6 unicast, empty
      0x40, 0x01, 0x05, 0x00,              // ORIGIN claiming 5 octets
  };
  const PathAttributes a = parse(b, {}, {}, 23);
  expect_one_error(a, ErrorKind::Truncated, update_subcode::kMalformedAttributeList,
                   Reaction::TreatAsWithdraw, 29);
}

TEST(AttributesMalformed, AttributeHeaderTruncated) {
  const Bytes two = {
      0x40, 0x01, 0x01, 0x00,  // ORIGIN IGP
      0x40, 0x02,              // flags and type, no length
  };
  expect_one_error(parse(two), ErrorKind::Truncated, update_subcode::kMalformedAttributeList,
                   Reaction::SessionReset, 4);
  const Bytes ext = {
      0x50, 0x02, 0x00,  // extended-length AS_PATH with one length octet
  };
  expect_one_error(parse(ext), ErrorKind::Truncated, update_subcode::kMalformedAttributeList,
                   Reaction::SessionReset, 0);
}

TEST(AttributesMalformed, StrongestReactionWins) {
  const Bytes b = {
      0x40, 0x06, 0x01, 0x00,                             // ATOMIC_AGGREGATE, length 1: discard
      0x40, 0x03, 0x03, 0xC0, 0x00, 0x02,                 // NEXT_HOP, length 3: treat-as-withdraw
      0xC0, 0x07, 0x08, 0,    0,    0,    0, 1, 2, 3, 4,  // AGGREGATOR AS 0: discard
  };
  const PathAttributes a = parse(b);
  EXPECT_EQ(a.diagnostics.error_count, 3);
  EXPECT_EQ(a.diagnostics.reaction, Reaction::TreatAsWithdraw);
  EXPECT_EQ(a.diagnostics.first.offset, 0U);
  EXPECT_EQ(a.diagnostics.strongest.offset, 4U);
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
