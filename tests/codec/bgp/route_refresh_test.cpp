#include "codec/bgp/route_refresh.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "codec/bgp/notification_codes.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::bgp {
namespace {

using Bytes = std::vector<std::uint8_t>;

using tests::with_marker;

Bytes encode(const RouteRefresh& rr) {
  wire::Writer w;
  EXPECT_TRUE(encode_route_refresh(rr, w));
  return w.take();
}

void expect_round_trip(const Bytes& bytes, const RouteRefresh& value) {
  auto p = parse_route_refresh(bytes);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, value);
  EXPECT_EQ(encode(*p), bytes);
  EXPECT_EQ(encode(value), bytes);
}

TEST(Keepalive, RoundTrip) {
  wire::Writer w;
  encode_keepalive(w);
  EXPECT_EQ(w.take(), with_marker({0x00, 0x13, 0x04}));
  EXPECT_TRUE(parse_keepalive(with_marker({0x00, 0x13, 0x04})));
}

TEST(Keepalive, LongerThan19IsBadMessageLength) {
  const Bytes b = with_marker({
      0x00, 0x14,  // length 20
      0x04,        // KEEPALIVE
      0x00,        // stray octet
  });
  auto s = parse_keepalive(b);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, error_code::kMessageHeader);
  EXPECT_EQ(s.error().subcode, header_subcode::kBadMessageLength);
  EXPECT_EQ(s.error().reaction, Reaction::SessionReset);
  EXPECT_EQ(s.error().offset, 16U);
}

TEST(RouteRefresh, RealPacketLifeRequest) {
  // PacketLife BGP_soft_reset.cap: IPv4 unicast refresh (RFC 2918 reserved octet 0).
  expect_round_trip(
      with_marker({
          0x00, 0x17,  // length 23
          0x05,        // ROUTE-REFRESH
          0x00, 0x01,  // AFI IPv4
          0x00,        // subtype 0 (reserved in RFC 2918)
          0x01,        // SAFI unicast
      }),
      RouteRefresh{MessageType::RouteRefresh, kIpv4Unicast, RouteRefreshSubtype::Normal, {}});
}

TEST(RouteRefresh, BorrEorrAndCisco) {
  expect_round_trip(with_marker({0x00, 0x17, 0x05, 0x00, 0x02, 0x01, 0x01}),
                    RouteRefresh{MessageType::RouteRefresh,
                                 kIpv6Unicast,
                                 RouteRefreshSubtype::BeginningOfRouteRefresh,
                                 {}});
  expect_round_trip(
      with_marker({0x00, 0x17, 0x05, 0x00, 0x02, 0x02, 0x01}),
      RouteRefresh{
          MessageType::RouteRefresh, kIpv6Unicast, RouteRefreshSubtype::EndOfRouteRefresh, {}});
  expect_round_trip(
      with_marker({0x00, 0x17, 0x80, 0x00, 0x01, 0x00, 0x01}),
      RouteRefresh{MessageType::CiscoRouteRefresh, kIpv4Unicast, RouteRefreshSubtype::Normal, {}});
}

TEST(RouteRefresh, OrfEntriesAndUnknownSubtypesStayRaw) {
  RouteRefresh orf{MessageType::RouteRefresh,
                   kIpv4Unicast,
                   RouteRefreshSubtype::Normal,
                   {0x01, 0x40, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0A, 0x18}};
  expect_round_trip(with_marker({
                        0x00, 0x20,                    // length 32
                        0x05,                          // ROUTE-REFRESH
                        0x00, 0x01,                    // AFI IPv4
                        0x00,                          // subtype normal
                        0x01,                          // SAFI unicast
                        0x01,                          // ORF: when-to-refresh IMMEDIATE
                        0x40,                          // ORF type 64 (address prefix)
                        0x00, 0x05,                    // length of ORF entries
                        0x00, 0x00, 0x00, 0x0A, 0x18,  // one entry, raw
                    }),
                    orf);
  auto unknown = parse_route_refresh(with_marker({0x00, 0x18, 0x05, 0x00, 0x01, 0x07, 0x01, 0xAA}));
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->known_subtype());
  EXPECT_EQ(static_cast<int>(unknown->subtype), 7);
  EXPECT_EQ(unknown->orf_entries, Bytes{0xAA});
}

void expect_invalid_length(const Bytes& b) {
  auto p = parse_route_refresh(b);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, error_code::kRouteRefresh);
  EXPECT_EQ(p.error().subcode, route_refresh_subcode::kInvalidMessageLength);
  EXPECT_EQ(p.error().reaction, Reaction::SessionReset);
  EXPECT_EQ(p.error().offset, 16U);
}

TEST(RouteRefresh, BorrOrEorrLongerThan23Is7_1) {
  expect_invalid_length(with_marker({
      0x00, 0x18,  // length 24
      0x05,        // ROUTE-REFRESH
      0x00, 0x01,  // AFI IPv4
      0x01,        // subtype BoRR
      0x01,        // SAFI unicast
      0x00,        // stray octet
  }));
  expect_invalid_length(with_marker({
      0x00, 0x18,  // length 24
      0x05,        // ROUTE-REFRESH
      0x00, 0x01,  // AFI IPv4
      0x02,        // subtype EoRR
      0x01,        // SAFI unicast
      0x00,        // stray octet
  }));
}

TEST(RouteRefresh, ShorterThan23Is7_1) {
  expect_invalid_length(with_marker({
      0x00, 0x16,  // length 22
      0x05,        // ROUTE-REFRESH
      0x00, 0x01,  // AFI IPv4
      0x00,        // subtype
  }));
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
