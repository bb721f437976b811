#include "codec/bgp/open.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "codec/bgp/notification.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::bgp {
namespace {

using Bytes = std::vector<std::uint8_t>;

using tests::from_hex;
using tests::with_marker;

Bytes encode(const Open& o) {
  wire::Writer w;
  auto s = encode_open(o, w);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return w.take();
}

void expect_bytes_round_trip(const Bytes& bytes) {
  auto o = parse_open(bytes);
  ASSERT_TRUE(o) << o.error().message << " at " << o.error().offset;
  EXPECT_EQ(encode(*o), bytes);
  auto again = parse_open(encode(*o));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *o);
}

// Real OPENs from /work/shared/data/bgp-pcap (tcpdump test captures and PacketLife).
TEST(Open, RealOpensRoundTrip) {
  // bgp-enhanced-route-refresh.pcapng: MP, RR (2 and 128), enhanced RR, AS4, ADD-PATH, FQDN, GR.
  expect_bytes_round_trip(from_hex(
      "ffffffffffffffffffffffffffffffff005f0104fde900b4c0a80a44420206010400010001020280000202020002"
      "024600020641040000fde9020206000206450400010101021249100e65786974312d64656269616e2d3900020440"
      "020078"));
  // bgp-cease-hard-reset.pcap: GR with a tuple, and two parameters.
  expect_bytes_round_trip(from_hex(
      "ffffffffffffffffffffffffffffffff0031010400640e10010001011402084006403c00010180020802000104"
      "00010001"));
  // bgp-cease-hard-reset.pcap: one parameter with many capabilities, GR R+N without tuples.
  expect_bytes_round_trip(
      from_hex("ffffffffffffffffffffffffffffffff0041010400640e1000000001240222010400010001010400020"
               "00102004002"
               "c12c41040000006445080001010100020101"));
  // bgp-role.pcapng: Role, FQDN with an empty domain, LLGR.
  expect_bytes_round_trip(from_hex(
      "ffffffffffffffffffffffffffffffff006b0104fdea00b4c0a80a114e02060104000100010202800002020200"
      "02024600020641040000fdea0202060002030901030206450400010101020e490c0a646f6e617461732d706300"
      "0204400240780209470700010180000000"));
  // PacketLife BGP_notification.cap.
  expect_bytes_round_trip(
      from_hex("ffffffffffffffffffffffffffffffff002d0104feb000b40a140301100206010400010001020280000"
               "2020200"));
}

TEST(Open, RealOpenFields) {
  auto o = parse_open(from_hex(
      "ffffffffffffffffffffffffffffffff006b0104fdea00b4c0a80a114e02060104000100010202800002020200"
      "02024600020641040000fdea0202060002030901030206450400010101020e490c0a646f6e617461732d706300"
      "0204400240780209470700010180000000"));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->version, 4);
  EXPECT_EQ(o->my_as, 65002);
  EXPECT_EQ(o->hold_time, 180);
  EXPECT_EQ(o->bgp_identifier, 0xC0A80A11U);
  EXPECT_FALSE(o->extended_parameters);
  EXPECT_EQ(o->parameters.size(), 11U);
  ASSERT_NE(o->find_last<RoleCapability>(), nullptr);
  EXPECT_EQ(o->find_last<RoleCapability>()->role, BgpRole::Customer);
  ASSERT_NE(o->find_last<FqdnCapability>(), nullptr);
  EXPECT_EQ(o->find_last<FqdnCapability>()->hostname, "donatas-pc");
  EXPECT_EQ(o->find_last<FqdnCapability>()->domain, "");
  ASSERT_NE(o->find_last<FourOctetAsCapability>(), nullptr);
  EXPECT_EQ(o->find_last<FourOctetAsCapability>()->asn, 65002U);
  ASSERT_NE(o->find_last<LlgrCapability>(), nullptr);
  EXPECT_TRUE(o->has_capability(CapabilityCode::CiscoRouteRefresh));
}

TEST(Open, ValueRoundTripClassic) {
  Open o;
  o.my_as = 65001;
  o.hold_time = 90;
  o.bgp_identifier = 0x0A000001;
  o.add_capability(Capability::of(MultiprotocolCapability{kIpv4Unicast}));
  o.add_capability(Capability::of(FourOctetAsCapability{65001}));
  const Bytes b = encode(o);
  const Bytes expected = with_marker({
      0x00, 0x2B,                          // length 43
      0x01,                                // OPEN
      0x04,                                // version
      0xFD, 0xE9,                          // My AS 65001
      0x00, 0x5A,                          // hold time 90
      0x0A, 0x00, 0x00, 0x01,              // BGP Identifier 10.0.0.1
      0x0E,                                // Opt Parm Len 14
      0x02, 0x0C,                          // Capabilities, length 12
      0x01, 0x04, 0x00, 0x01, 0x00, 0x01,  // MP IPv4 unicast
      0x41, 0x04, 0x00, 0x00, 0xFD, 0xE9,  // AS4 65001
  });
  EXPECT_EQ(b, expected);
  auto p = parse_open(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, o);
}

TEST(Open, ExtendedParametersUsedOnlyWhenNeeded) {
  Open o;
  o.my_as = 65001;
  o.hold_time = 90;
  o.bgp_identifier = 1;
  // 300 octets of unknown capability in many caps: the parameter exceeds 255 octets.
  for (int i = 0; i < 30; ++i) {
    o.add_capability(Capability::raw(0xF0, Bytes(8, static_cast<std::uint8_t>(i))));
  }
  const Bytes b = encode(o);
  ASSERT_GE(b.size(), 33U);
  EXPECT_EQ(b[28], 0xFF);                   // Non-Ext OP Len
  EXPECT_EQ(b[29], 0xFF);                   // Non-Ext OP Type
  EXPECT_EQ(b[30] * 256 + b[31], 3 + 300);  // Extended Opt. Parm. Length
  EXPECT_EQ(b[32], 0x02);                   // Capabilities parameter
  EXPECT_EQ(b[33] * 256 + b[34], 300);      // its 2-octet length
  auto p = parse_open(b);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->extended_parameters);
  EXPECT_EQ(p->parameters, o.parameters);
  EXPECT_EQ(encode(*p), b);

  // A small OPEN stays classic.
  Open small;
  small.my_as = 1;
  small.bgp_identifier = 1;
  small.add_capability(Capability::of(RouteRefreshCapability{}));
  const Bytes s = encode(small);
  EXPECT_EQ(s[28], 4);
}

TEST(Open, ExtendedFormFromAPeerRoundTrips) {
  // RFC 9072 form although the parameters would fit the classic one.
  const Bytes b = with_marker({
      0x00, 0x25,              // length 37
      0x01,                    // OPEN
      0x04,                    // version
      0xFD, 0xE9,              // My AS 65001
      0x00, 0xB4,              // hold time 180
      0x01, 0x02, 0x03, 0x04,  // BGP Identifier
      0xFF,                    // Non-Ext OP Len 255
      0xFF,                    // Non-Ext OP Type 255: extended form
      0x00, 0x05,              // Extended Opt. Parm. Length 5
      0x02, 0x00, 0x02,        // Capabilities, 2-octet length 2
      0x02, 0x00,              // route refresh
  });
  auto o = parse_open(b);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->extended_parameters);
  EXPECT_TRUE(o->has_capability(CapabilityCode::RouteRefresh));
  EXPECT_EQ(encode(*o), b);
}

TEST(Open, ManyParametersWithOneCapabilityEachAndOneWithMany) {
  const Bytes split = with_marker({
      0x00, 0x25,              // length 37
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0x00,              // hold time 0
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x08,                    // Opt Parm Len 8
      0x02, 0x02, 0x02, 0x00,  // Capabilities: route refresh
      0x02, 0x02, 0x06, 0x00,  // Capabilities: extended message
  });
  auto a = parse_open(split);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->parameters.size(), 2U);
  EXPECT_TRUE(a->has_capability(CapabilityCode::RouteRefresh));
  EXPECT_TRUE(a->has_capability(CapabilityCode::ExtendedMessage));
  EXPECT_EQ(encode(*a), split);

  const Bytes joined = with_marker({
      0x00, 0x23,              // length 35
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0x00,              // hold time 0
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x06,                    // Opt Parm Len 6
      0x02, 0x04,              // Capabilities, length 4
      0x02, 0x00,              // route refresh
      0x06, 0x00,              // extended message
  });
  auto b = parse_open(joined);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->parameters.size(), 1U);
  EXPECT_TRUE(b->has_capability(CapabilityCode::RouteRefresh));
  EXPECT_TRUE(b->has_capability(CapabilityCode::ExtendedMessage));
  EXPECT_EQ(encode(*b), joined);
}

void expect_error(const Bytes& b, std::uint8_t code, std::uint8_t subcode, std::uint32_t offset) {
  auto o = parse_open(b);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, code);
  EXPECT_EQ(o.error().subcode, subcode);
  EXPECT_EQ(o.error().reaction, Reaction::SessionReset);
  EXPECT_EQ(o.error().offset, offset);
}

TEST(Open, UnsupportedVersionIs2_1) {
  const Bytes b = with_marker({
      0x00, 0x1D,              // length 29
      0x01,                    // OPEN
      0x03,                    // version 3
      0x00, 0x64,              // My AS 100
      0x00, 0xB4,              // hold time 180
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x00,                    // no optional parameters
  });
  expect_error(b, error_code::kOpenMessage, open_subcode::kUnsupportedVersion, 19);
  // The data a speaker sends back: the version it supports, two octets.
  const auto data = unsupported_version_data();
  EXPECT_EQ(Bytes(data.begin(), data.end()), (Bytes{0x00, 0x04}));
}

TEST(Open, MyAsZeroIs2_2) {
  const Bytes b = with_marker({
      0x00, 0x1D,              // length 29
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x00,              // My AS 0 (RFC 7607)
      0x00, 0xB4,              // hold time 180
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x00,                    // no optional parameters
  });
  expect_error(b, error_code::kOpenMessage, open_subcode::kBadPeerAs, 20);
}

TEST(Open, HoldTimeOneOrTwoIs2_6) {
  for (std::uint8_t hold : {1, 2}) {
    const Bytes b = with_marker({
        0x00, 0x1D,              // length 29
        0x01,                    // OPEN
        0x04,                    // version
        0x00, 0x64,              // My AS 100
        0x00, hold,              // hold time 1 or 2
        0x01, 0x01, 0x01, 0x01,  // BGP Identifier
        0x00,                    // no optional parameters
    });
    expect_error(b, error_code::kOpenMessage, open_subcode::kUnacceptableHoldTime, 22);
  }
}

TEST(Open, BgpIdentifierZeroIs2_3) {
  const Bytes b = with_marker({
      0x00, 0x1D,              // length 29
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0xB4,              // hold time 180
      0x00, 0x00, 0x00, 0x00,  // BGP Identifier 0
      0x00,                    // no optional parameters
  });
  expect_error(b, error_code::kOpenMessage, open_subcode::kBadBgpIdentifier, 24);
}

TEST(Open, UnsupportedOptionalParameterIs2_4) {
  const Bytes b = with_marker({
      0x00, 0x20,              // length 32
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0xB4,              // hold time 180
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x03,                    // Opt Parm Len 3
      0x01, 0x01, 0x00,        // type 1 (Authentication, deprecated), length 1
  });
  expect_error(b, error_code::kOpenMessage, open_subcode::kUnsupportedOptionalParameter, 29);
}

TEST(Open, ParameterLengthsThatDoNotAddUpAre2_0) {
  const Bytes overrun = with_marker({
      0x00, 0x1F,              // length 31
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0xB4,              // hold time 180
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x02,                    // Opt Parm Len 2
      0x02, 0x05,              // Capabilities, length 5: overruns the parameters
  });
  expect_error(overrun, error_code::kOpenMessage, 0, 30);
  const Bytes disagree = with_marker({
      0x00, 0x1F,              // length 31
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0xB4,              // hold time 180
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x04,                    // Opt Parm Len 4, but only 2 octets follow
      0x02, 0x00,              // Capabilities, length 0
  });
  expect_error(disagree, error_code::kOpenMessage, 0, 28);
  const Bytes ext_truncated = with_marker({
      0x00, 0x1F,              // length 31
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0xB4,              // hold time 180
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0xFF,                    // Non-Ext OP Len
      0xFF,                    // Non-Ext OP Type: extended form
      0x00,                    // Extended length cut short
  });
  expect_error(ext_truncated, error_code::kOpenMessage, 0, 30);
}

TEST(Open, MalformedCapabilityInsideIs2_0WithItsOffset) {
  const Bytes b = with_marker({
      0x00, 0x22,              // length 34
      0x01,                    // OPEN
      0x04,                    // version
      0x00, 0x64,              // My AS 100
      0x00, 0xB4,              // hold time 180
      0x01, 0x01, 0x01, 0x01,  // BGP Identifier
      0x05,                    // Opt Parm Len 5
      0x02, 0x03,              // Capabilities, length 3
      0x41, 0x01, 0x00,        // AS4 with length 1 (must be 4)
  });
  expect_error(b, error_code::kOpenMessage, 0, 32);
}

TEST(Open, HeaderErrorsAndWrongType) {
  const Bytes keepalive = with_marker({0x00, 0x13, 0x04});
  expect_error(keepalive, error_code::kMessageHeader, header_subcode::kBadMessageType, 18);
  const Bytes short_open = with_marker({0x00, 0x1C, 0x01});  // length 28 < 29
  expect_error(short_open, error_code::kMessageHeader, header_subcode::kBadMessageLength, 16);
}

TEST(Open, EncodeRefusesMoreThan4096Octets) {
  Open o;
  o.my_as = 1;
  o.bgp_identifier = 1;
  for (int i = 0; i < 20; ++i) {
    o.add_capability(Capability::raw(0xF0, Bytes(250, 0)));
  }
  wire::Writer w;
  auto s = encode_open(o, w);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::TooLarge);
}

// Mutated real OPENs never crash the parser, and whatever parses re-encodes to its bytes.
TEST(Open, MutatedInputsParseToByteExactValuesOrFail) {
  const std::vector<Bytes> seeds = {
      from_hex(
          "ffffffffffffffffffffffffffffffff005f0104fde900b4c0a80a4442020601040001000102028000"
          "0202020002024600020641040000fde9020206000206450400010101021249100e65786974312d646562"
          "69616e2d3900020440020078"),
      from_hex(
          "ffffffffffffffffffffffffffffffff006b0104fdea00b4c0a80a114e02060104000100010202800002"
          "020200"
          "02024600020641040000fdea0202060002030901030206450400010101020e490c0a646f6e617461732d7063"
          "00"
          "0204400240780209470700010180000000"),
  };
  for (const Bytes& seed : seeds) {
    ASSERT_TRUE(parse_open(seed));
  }
  std::mt19937 rng(7);
  std::size_t parsed = 0;
  for (const Bytes& seed : seeds) {
    for (int i = 0; i < 5000; ++i) {
      Bytes b = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        // Leave the marker alone more often than not so that mutations reach the body.
        const std::size_t at = 16 + rng() % (b.size() - 16);
        b[at] = static_cast<std::uint8_t>(rng());
      }
      if (rng() % 4 == 0) {
        b.resize(19 + rng() % (b.size() - 19));
      }
      auto o = parse_open(b);
      if (o) {
        ++parsed;
        ASSERT_EQ(encode(*o), b);
      }
    }
  }
  EXPECT_GT(parsed, 0U);
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
