#include "codec/bmp/message.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/bgp/update.hpp"

namespace bgpscribe::codec::bmp {
namespace {

using Buffer = std::vector<std::uint8_t>;

Buffer cat(std::initializer_list<Buffer> parts) {
  Buffer out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

Buffer text(const std::string& s) {
  return Buffer(s.begin(), s.end());
}

Buffer encode_message(const Message& m) {
  wire::Writer w;
  auto s = encode(m, w);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return w.take();
}

// encode(value) parses back to value, and those bytes re-encode to themselves.
void expect_round_trip(const Message& value) {
  const Buffer bytes = encode_message(value);
  auto parsed = parse_message(bytes);
  ASSERT_TRUE(parsed) << parsed.error().message << " at " << parsed.error().offset;
  EXPECT_EQ(*parsed, value);
  EXPECT_EQ(encode_message(*parsed), bytes);
}

PerPeerHeader v4_peer() {
  PerPeerHeader p;
  p.peer_type = PeerType::GlobalInstance;
  p.set_peer_address(*bgp::IpAddress::parse("192.0.2.1"));
  p.peer_as = 64500;
  p.bgp_identifier = 0xC0000201;
  p.timestamp_seconds = 1700000000;
  p.timestamp_microseconds = 123456;
  return p;
}

PerPeerHeader v6_rd_peer() {
  PerPeerHeader p;
  p.peer_type = PeerType::RdInstance;
  p.distinguisher = {0, 1, 0, 0, 0xFD, 0xE8, 0, 1};
  p.set_peer_address(*bgp::IpAddress::parse("2001:db8::1"));
  p.flags = static_cast<std::uint8_t>(p.flags | peer_flag::kPostPolicy | peer_flag::kAdjRibOut);
  p.peer_as = 4200000000U;
  p.bgp_identifier = 1;
  return p;
}

Buffer end_of_rib_update() {
  wire::Writer w;
  EXPECT_TRUE(bgp::UpdateMessage::end_of_rib(bgp::kIpv4Unicast).encode(w));
  return w.take();
}

Buffer open_message(std::uint16_t as, std::uint32_t id) {
  bgp::Open o;
  o.my_as = as;
  o.hold_time = 90;
  o.bgp_identifier = id;
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv4Unicast}));
  wire::Writer w;
  EXPECT_TRUE(bgp::encode_open(o, w));
  return w.take();
}

TEST(BmpFrame, NeedMoreMessageBroken) {
  const Buffer b = {
      0x03,                    // version 3
      0x00, 0x00, 0x00, 0x08,  // length 8
      0x04,                    // Initiation
      0x00, 0x00,              // (start of a TLV)
  };
  for (std::size_t n = 0; n < b.size(); ++n) {
    const Frame f = frame(std::span(b).first(n));
    EXPECT_EQ(f.status, bgp::FrameStatus::NeedMore) << n;
    EXPECT_EQ(f.size, n < 6 ? 6U : 8U) << n;
  }
  const Frame f = frame(b);
  ASSERT_EQ(f.status, bgp::FrameStatus::Message);
  EXPECT_EQ(f.size, 8U);
  EXPECT_EQ(f.header.type, MessageType::Initiation);
}

TEST(BmpFrame, WrongVersionIsBroken) {
  const Buffer b = {
      0x01,  // version 1 (RFC 7854 needs 3)
  };
  const Frame f = frame(b);
  ASSERT_EQ(f.status, bgp::FrameStatus::Broken);
  EXPECT_EQ(f.error.offset, 0U);
  EXPECT_EQ(f.error.kind, ErrorKind::Unsupported);
}

TEST(BmpFrame, LengthOutOfRangeIsBroken) {
  const Buffer too_small = {
      0x03,                    // version 3
      0x00, 0x00, 0x00, 0x05,  // length 5: below the common header
      0x04,                    // Initiation
  };
  Frame f = frame(too_small);
  ASSERT_EQ(f.status, bgp::FrameStatus::Broken);
  EXPECT_EQ(f.error.offset, 1U);
  EXPECT_EQ(f.error.kind, ErrorKind::BadLength);
  const Buffer too_large = {
      0x03,                    // version 3
      0x7F, 0x00, 0x00, 0x00,  // length 2 GiB
      0x00,                    // Route Monitoring
  };
  f = frame(too_large);
  ASSERT_EQ(f.status, bgp::FrameStatus::Broken);
  EXPECT_EQ(f.error.offset, 1U);
}

TEST(BmpPerPeerHeader, Layout) {
  const PerPeerHeader p = v4_peer();
  wire::Writer w;
  encode_per_peer_header(p, w);
  const Buffer expected = {
      0x00,                                            // Global Instance peer
      0x00,                                            // flags: IPv4, pre-policy, Adj-RIB-In
      0,    0,    0,    0,    0, 0, 0, 0,              // distinguisher
      0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0,  // address padding
      192,  0,    2,    1,                             // 192.0.2.1
      0x00, 0x00, 0xFB, 0xF4,                          // peer AS 64500
      0xC0, 0x00, 0x02, 0x01,                          // BGP ID
      0x65, 0x53, 0xF1, 0x00,                          // seconds 1700000000
      0x00, 0x01, 0xE2, 0x40,                          // microseconds 123456
  };
  EXPECT_EQ(w.take(), expected);
  EXPECT_EQ(p.peer_address().to_string(), "192.0.2.1");
  const PerPeerHeader q = v6_rd_peer();
  EXPECT_TRUE(q.ipv6());
  EXPECT_TRUE(q.post_policy());
  EXPECT_TRUE(q.adj_rib_out());
  EXPECT_FALSE(q.legacy_as_path());
  EXPECT_EQ(q.peer_address().to_string(), "2001:db8::1");
  PerPeerHeader loc;
  loc.peer_type = PeerType::LocRibInstance;
  loc.flags = peer_flag::kLocRibFiltered;  // 0x80 is F here, not V
  EXPECT_TRUE(loc.loc_rib_filtered());
  EXPECT_FALSE(loc.ipv6());
}

TEST(BmpMessage, RouteMonitoringRoundTripAndInnerUpdateParses) {
  const Buffer update = end_of_rib_update();
  expect_round_trip(RouteMonitoring{v4_peer(), update, {}});
  expect_round_trip(RouteMonitoring{v6_rd_peer(), update, {}});
  const Buffer trailing = {0x00, 0x04, 0x00, 0x00};  // a draft TLV after the PDU
  expect_round_trip(RouteMonitoring{v4_peer(), update, trailing});

  const Buffer bytes = encode_message(RouteMonitoring{v4_peer(), update, {}});
  auto m = parse_message(bytes);
  ASSERT_TRUE(m);
  const auto& rm = std::get<RouteMonitoring>(*m);
  EXPECT_EQ(rm.update.data(), bytes.data() + 48);  // a view into the input
  auto u = bgp::parse_update(rm.update, bgp::ParseContext{});
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->end_of_rib);
}

TEST(BmpMessage, RouteMonitoringWithBrokenInnerPdu) {
  const Buffer b = cat({
      {0x03, 0x00, 0x00, 0x00, 0x43, 0x00},  // v3, length 67, Route Monitoring
      Buffer(42, 0),                         // per-peer header (zeros)
      Buffer(15, 0xFF),
      {0xFE},              // marker with a bad last octet
      {0x00, 0x13, 0x02},  // length 19, UPDATE
  });
  auto m = parse_message(b);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, bgp::error_code::kMessageHeader);
  EXPECT_EQ(m.error().subcode, bgp::header_subcode::kConnectionNotSynchronized);
  EXPECT_EQ(m.error().offset, 48U + 15U);

  const Buffer truncated = cat({
      {0x03, 0x00, 0x00, 0x00, 0x43, 0x00},  // v3, length 67, Route Monitoring
      Buffer(42, 0),                         // per-peer header
      Buffer(16, 0xFF),                      // marker
      {0x00, 0x17, 0x02},                    // length 23 but only 19 octets remain
  });
  m = parse_message(truncated);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 48U);

  Buffer keepalive = cat({
      {0x03, 0x00, 0x00, 0x00, 0x43, 0x00},  // v3, length 67, Route Monitoring
      Buffer(42, 0),                         // per-peer header
      Buffer(16, 0xFF),                      // marker
      {0x00, 0x13, 0x04},                    // a KEEPALIVE, not an UPDATE
  });
  m = parse_message(keepalive);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().offset, 48U + 18U);
}

TEST(BmpMessage, StatisticsReportRoundTrip) {
  StatisticsReport s{v4_peer(), {}};
  s.stats.push_back(Stat::counter(StatType::RejectedPrefixes, 7));
  s.stats.push_back(Stat::counter(StatType::DuplicateUpdates, 8));
  s.stats.push_back(Stat::gauge(StatType::AdjRibInRoutes, 1000000));
  s.stats.push_back(Stat::gauge(StatType::AdjRibOutPostPolicyRoutes, 5));
  s.stats.push_back(
      Stat::per_afi_safi(StatType::PerAfiSafiLocRibRoutes, bgp::kIpv6Unicast, 230000));
  s.stats.push_back(
      Stat::per_afi_safi(StatType::PerAfiSafiAdjRibOutPrePolicyRoutes, bgp::kIpv4Unicast, 1));
  const Buffer raw = {1, 2, 3};
  s.stats.push_back(Stat{static_cast<StatType>(65000), StatKind::Unknown, 0, {}, raw});
  expect_round_trip(s);
}

TEST(BmpMessage, StatisticsReportLayout) {
  const Buffer b = cat({
      {0x03, 0x00, 0x00, 0x00, 0x57, 0x01},  // v3, length 87, Statistics Report
      Buffer(42, 0),                         // per-peer header
      {0x00, 0x00, 0x00, 0x03},              // 3 stats
      {0x00, 0x00, 0x00, 0x04},              // type 0, length 4
      {0x00, 0x00, 0x00, 0x2A},              // counter 42
      {0x00, 0x07, 0x00, 0x08},              // type 7, length 8
      {0, 0, 0, 0, 0, 0, 0x01, 0x00},        // gauge 256
      {0x00, 0x09, 0x00, 0x0B},              // type 9, length 11
      {0x00, 0x02, 0x01},                    // IPv6 unicast
      {0, 0, 0, 0, 0, 0, 0x00, 0x10},        // gauge 16
  });
  auto m = parse_message(b);
  ASSERT_TRUE(m) << m.error().message;
  const auto& s = std::get<StatisticsReport>(*m);
  ASSERT_EQ(s.stats.size(), 3U);
  EXPECT_EQ(s.stats[0], Stat::counter(StatType::RejectedPrefixes, 42));
  EXPECT_EQ(s.stats[1], Stat::gauge(StatType::AdjRibInRoutes, 256));
  EXPECT_EQ(s.stats[2],
            Stat::per_afi_safi(StatType::PerAfiSafiAdjRibInRoutes, bgp::kIpv6Unicast, 16));
  EXPECT_EQ(encode_message(*m), b);
}

TEST(BmpMessage, StatisticKnownTypeWithOddLengthIsKeptRaw) {
  const Buffer b = cat({
      {0x03, 0x00, 0x00, 0x00, 0x3A, 0x01},  // v3, length 58, Statistics Report
      Buffer(42, 0),                         // per-peer header
      {0x00, 0x00, 0x00, 0x01},              // 1 stat
      {0x00, 0x07, 0x00, 0x02},              // type 7 (a gauge) with length 2
      {0xAB, 0xCD},                          // value
  });
  auto m = parse_message(b);
  ASSERT_TRUE(m);
  const auto& s = std::get<StatisticsReport>(*m);
  EXPECT_EQ(s.stats.at(0).kind, StatKind::Unknown);
  EXPECT_EQ(s.stats.at(0).type, StatType::AdjRibInRoutes);
  EXPECT_EQ(encode_message(*m), b);
}

TEST(BmpMessage, StatisticsCountOverrunIsTruncated) {
  const Buffer b = cat({
      {0x03, 0x00, 0x00, 0x00, 0x38, 0x01},  // v3, length 56, Statistics Report
      Buffer(42, 0),                         // per-peer header
      {0x00, 0x00, 0x00, 0x02},              // 2 stats, but only one follows
      {0x00, 0x00, 0x00, 0x04},              // type 0, length 4
  });
  auto m = parse_message(b);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 52U + 2U);  // the length field of the first stat
}

TEST(BmpMessage, StatisticsTrailingOctetsAreRejected) {
  const Buffer b = cat({
      {0x03, 0x00, 0x00, 0x00, 0x35, 0x01},  // v3, length 53, Statistics Report
      Buffer(42, 0),                         // per-peer header
      {0x00, 0x00, 0x00, 0x00},              // 0 stats
      {0xEE},                                // stray octet
  });
  auto m = parse_message(b);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(m.error().offset, 52U);
}

TEST(BmpMessage, PeerDownEveryReason) {
  const bgp::Notification n{bgp::error_code::kCease, bgp::cease_subcode::kAdministrativeShutdown,
                            bgp::shutdown_communication_data("maintenance")};
  PeerDown local{v4_peer(), PeerDownReason::LocalNotification, n, 0, {}, {}};
  expect_round_trip(local);
  PeerDown remote{v6_rd_peer(), PeerDownReason::RemoteNotification, n, 0, {}, {}};
  expect_round_trip(remote);
  expect_round_trip(PeerDown{v4_peer(), PeerDownReason::LocalNoNotification, {}, 10, {}, {}});
  expect_round_trip(PeerDown{v4_peer(), PeerDownReason::RemoteNoNotification, {}, 0, {}, {}});
  expect_round_trip(PeerDown{v4_peer(), PeerDownReason::PeerDeconfigured, {}, 0, {}, {}});
  PerPeerHeader loc;
  loc.peer_type = PeerType::LocRibInstance;
  const Buffer vrf = text("blue");
  expect_round_trip(PeerDown{loc, PeerDownReason::LocalSystemClosedTlv, {}, 0, {{3, vrf}}, {}});
  const Buffer unknown = {9, 9};
  expect_round_trip(PeerDown{v4_peer(), static_cast<PeerDownReason>(77), {}, 0, {}, unknown});
}

TEST(BmpMessage, PeerDownNotificationParsedWithTheBgpCodec) {
  const Buffer b = cat({
      {0x03, 0x00, 0x00, 0x00, 0x46, 0x02},  // v3, length 70, Peer Down
      Buffer(42, 0),                         // per-peer header
      {0x03},                                // reason 3: remote NOTIFICATION
      Buffer(16, 0xFF),                      // marker
      {0x00, 0x15, 0x03},                    // length 21, NOTIFICATION
      {0x06, 0x03},                          // Cease / Peer De-configured
  });
  auto m = parse_message(b);
  ASSERT_TRUE(m) << m.error().message;
  const auto& d = std::get<PeerDown>(*m);
  ASSERT_TRUE(d.notification);
  EXPECT_EQ(d.notification->code, 6);
  EXPECT_EQ(d.notification->subcode, 3);
  EXPECT_EQ(encode_message(*m), b);
}

TEST(BmpMessage, PeerDownMalformed) {
  const Buffer wrong_event = cat({
      {0x03, 0x00, 0x00, 0x00, 0x32, 0x02},  // v3, length 50, Peer Down
      Buffer(42, 0),                         // per-peer header
      {0x02},                                // reason 2: needs a 2-octet FSM event
      {0x00},                                // only one octet
  });
  auto m = parse_message(wrong_event);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::BadLength);

  const Buffer not_a_notification = cat({
      {0x03, 0x00, 0x00, 0x00, 0x44, 0x02},  // v3, length 68, Peer Down
      Buffer(42, 0),                         // per-peer header
      {0x01},                                // reason 1: local NOTIFICATION
      Buffer(16, 0xFF),                      // marker
      {0x00, 0x13, 0x04},                    // a KEEPALIVE instead
  });
  m = parse_message(not_a_notification);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().offset, 49U + 18U);

  const Buffer missing_reason = cat({
      {0x03, 0x00, 0x00, 0x00, 0x30, 0x02},  // v3, length 48, Peer Down
      Buffer(42, 0),                         // per-peer header, then nothing
  });
  m = parse_message(missing_reason);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 48U);
}

TEST(BmpMessage, PeerUpRoundTripAndSplit) {
  PeerUp up;
  up.peer = v4_peer();
  up.local_address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 254};
  up.local_port = 179;
  up.remote_port = 50000;
  const Buffer sent = open_message(65000, 1);
  const Buffer received = open_message(64500, 2);
  up.sent_open = sent;
  up.received_open = received;
  const Buffer name = text("rtr1");
  up.information = {{0, name}};
  expect_round_trip(up);
  EXPECT_EQ(up.local_ip().to_string(), "192.0.2.254");

  const Buffer bytes = encode_message(up);
  auto m = parse_message(bytes);
  ASSERT_TRUE(m);
  const auto& p = std::get<PeerUp>(*m);
  EXPECT_TRUE(same_bytes(p.sent_open, sent));
  EXPECT_TRUE(same_bytes(p.received_open, received));
  EXPECT_TRUE(bgp::parse_open(p.sent_open));
  up.information.clear();
  expect_round_trip(up);
}

TEST(BmpMessage, PeerUpMalformed) {
  const Buffer short_fixed = cat({
      {0x03, 0x00, 0x00, 0x00, 0x40, 0x03},  // v3, length 64, Peer Up
      Buffer(42, 0),                         // per-peer header
      Buffer(16, 0),                         // local address, then no ports
  });
  auto m = parse_message(short_fixed);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 48U);

  const Buffer open = open_message(65000, 1);
  const Buffer one_open = cat({
      {0x03, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(68 + open.size()), 0x03},  // Peer Up
      Buffer(42, 0),  // per-peer header
      Buffer(16, 0),  // local address
      {0x00, 0xB3},   // local port 179
      {0xC3, 0x50},   // remote port 50000
      open,           // sent OPEN; the received OPEN is missing
  });
  m = parse_message(one_open);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 68U + open.size());
}

TEST(BmpMessage, InitiationTerminationAndMirroring) {
  const Buffer descr = text("router software 1.0");
  const Buffer name = text("rtr1");
  expect_round_trip(Initiation{{{1, descr}, {2, name}, {0, {}}}});
  const Buffer reason = {0x00, 0x02};
  const Termination t{{{0, name}, {1, reason}}};
  expect_round_trip(t);
  EXPECT_EQ(t.reason(), TerminationReason::OutOfResources);
  EXPECT_FALSE(Termination{}.reason());

  const Buffer update = end_of_rib_update();
  const Buffer lost = {0x00, 0x01};
  const RouteMirroring mirror{v4_peer(), {{0, update}, {1, lost}}};
  expect_round_trip(mirror);
  EXPECT_EQ(mirror.information(), MirroringInformation::MessagesLost);

  wire::Writer w;
  const Buffer huge(70000, 0);
  auto s = encode(Initiation{{{0, huge}}}, w);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::TooLarge);
}

TEST(BmpMessage, TlvOverrunIsTruncated) {
  const Buffer b = {
      0x03, 0x00, 0x00, 0x00, 0x0C, 0x04,  // v3, length 12, Initiation
      0x00, 0x02,                          // sysName
      0x00, 0x05,                          // length 5, but 2 octets follow
      'r',  '1',                           // value
  };
  auto m = parse_message(b);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 8U);
  const Buffer half_header = {
      0x03, 0x00, 0x00, 0x00, 0x08, 0x05,  // v3, length 8, Termination
      0x00, 0x01,                          // type, then no length
  };
  m = parse_message(half_header);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().offset, 6U);
}

TEST(BmpMessage, DraftType100AndUnknownTypesStayRaw) {
  const Buffer body = cat({Buffer(42, 0), {1, 2, 3}});
  expect_round_trip(RawMessage{MessageType::RoutePolicyAttributeTrace, body});
  expect_round_trip(RawMessage{static_cast<MessageType>(200), body});
}

TEST(BmpMessage, DraftVersion4FramesAndStaysRaw) {
  const Buffer b = cat({
      {0x04, 0x00, 0x00, 0x00, 0x3C, 0x00},  // version 4 (draft), length 60, Route Monitoring
      Buffer(42, 0),                         // per-peer header
      {0x00, 0x03, 0x00, 0x06, 0x00, 0x00},  // draft TLV: type 3, length 6, index 0
      {'g', 'l', 'o', 'b', 'a', 'l'},        // "global"
  });
  const Frame f = frame(b);
  ASSERT_EQ(f.status, bgp::FrameStatus::Message);
  EXPECT_EQ(f.header.version, 4);
  auto m = parse_message(b);
  ASSERT_TRUE(m) << m.error().message;
  const auto* raw = std::get_if<RawMessage>(&*m);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(raw->version, 4);
  EXPECT_EQ(raw->type, MessageType::RouteMonitoring);
  EXPECT_EQ(encode_message(*m), b);
  EXPECT_TRUE(peek_per_peer_header(b));
}

TEST(BmpMessage, PerPeerHeaderTruncatedAndLengthMismatch) {
  const Buffer b = cat({
      {0x03, 0x00, 0x00, 0x00, 0x10, 0x00},  // v3, length 16, Route Monitoring
      Buffer(10, 0),                         // 10 of the 42 per-peer octets
  });
  auto m = parse_message(b);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 6U);
  const Buffer longer = {
      0x03, 0x00, 0x00, 0x00, 0x06, 0x04,  // v3, length 6, Initiation
      0x00,                                // one octet beyond the length
  };
  m = parse_message(longer);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().offset, 1U);
}

TEST(BmpMessage, PeekPerPeerHeader) {
  const Buffer bytes = encode_message(RouteMonitoring{v6_rd_peer(), end_of_rib_update(), {}});
  auto p = peek_per_peer_header(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, v6_rd_peer());
  EXPECT_FALSE(peek_per_peer_header(encode_message(Initiation{})));
}

// Mutated messages of every type never crash the parser, and whatever parses re-encodes to
// its bytes.
TEST(BmpMessage, MutatedInputsParseToByteExactValuesOrFail) {
  const Buffer update = end_of_rib_update();
  const Buffer sent = open_message(65000, 1);
  const Buffer received = open_message(64500, 2);
  const Buffer name = text("rtr1");
  const bgp::Notification n{6, 2, bgp::shutdown_communication_data("bye")};
  PeerUp up;
  up.peer = v4_peer();
  up.sent_open = sent;
  up.received_open = received;
  up.information = {{2, name}};
  StatisticsReport stats{v6_rd_peer(), {}};
  stats.stats = {Stat::counter(StatType::RejectedPrefixes, 1),
                 Stat::gauge(StatType::AdjRibInRoutes, 2),
                 Stat::per_afi_safi(StatType::PerAfiSafiLocRibRoutes, bgp::kIpv4Unicast, 3)};
  const std::vector<Buffer> seeds = {
      encode_message(RouteMonitoring{v4_peer(), update, {}}),
      encode_message(stats),
      encode_message(PeerDown{v4_peer(), PeerDownReason::RemoteNotification, n, 0, {}, {}}),
      encode_message(up),
      encode_message(Initiation{{{1, name}, {2, name}}}),
      encode_message(Termination{{{1, Buffer{0, 1}}}}),
      encode_message(RouteMirroring{v4_peer(), {{0, update}}}),
  };
  std::mt19937 rng(11);
  std::size_t parsed = 0;
  for (const Buffer& seed : seeds) {
    for (int i = 0; i < 3000; ++i) {
      Buffer b = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = 5 + rng() % (b.size() - 5);  // keep version and length
        b[at] = static_cast<std::uint8_t>(rng());
      }
      auto m = parse_message(b);
      if (m) {
        ++parsed;
        ASSERT_EQ(encode_message(*m), b);
      }
    }
  }
  EXPECT_GT(parsed, 0U);
}

}  // namespace
}  // namespace bgpscribe::codec::bmp
