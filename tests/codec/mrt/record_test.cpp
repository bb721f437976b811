// Round trips built from values and malformed-input rules for the MRT record codec.
#include "codec/mrt/record.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/body.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::mrt {
namespace {

using Buf = std::vector<std::uint8_t>;

constexpr auto* ip = &tests::address;

// A KEEPALIVE: the MRT layer does not look inside, any bytes would do.
const Buf kKeepalive = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x04};
// ORIGIN IGP, AS_PATH (one 4-octet AS_SEQUENCE 64496 65551), NEXT_HOP 192.0.2.1.
const Buf kAttrs = {0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfb,
                    0xf0, 0x00, 0x01, 0x00, 0x0f, 0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01};

// parse(encode(v)) == v and encode(parse(bytes)) == bytes, through the generic Body path too.
template <class T, class Encode, class Parse>
void round_trip(const T& value, Encode encode_fn, Parse parse_fn) {
  wire::Writer w;
  ASSERT_TRUE(encode_fn(value, w));
  auto rec = parse_record(w.bytes());
  ASSERT_TRUE(rec) << rec.error().message;
  const Frame f = frame(w.bytes());
  EXPECT_EQ(f.status, FrameStatus::Complete);
  EXPECT_EQ(f.size, w.size());
  auto back = parse_fn(*rec);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(*back == value);
  auto body = parse_body(*rec);
  ASSERT_TRUE(body);
  ASSERT_TRUE(std::holds_alternative<T>(*body));
  EXPECT_TRUE(std::get<T>(*body) == value);
  wire::Writer again;
  ASSERT_TRUE(encode(*body, rec->header, again));
  EXPECT_TRUE(bytes_equal(again.bytes(), w.bytes()));
}

TEST(MrtRecord, Bgp4mpMessageRoundTripsEverySubtype) {
  for (auto subtype : {Bgp4mpSubtype::Message, Bgp4mpSubtype::MessageAs4,
                       Bgp4mpSubtype::MessageLocal, Bgp4mpSubtype::MessageAs4Local,
                       Bgp4mpSubtype::MessageAddpath, Bgp4mpSubtype::MessageAs4Addpath,
                       Bgp4mpSubtype::MessageLocalAddpath, Bgp4mpSubtype::MessageAs4LocalAddpath}) {
    for (bool v6 : {false, true}) {
      for (bool et : {false, true}) {
        Bgp4mpMessage m;
        m.subtype = subtype;
        m.peer.peer_as = is_as4(subtype) ? 4200000000U : 64496;
        m.peer.local_as = 65000;
        m.peer.interface_index = 7;
        m.peer.peer_ip = ip(v6 ? "2001:db8::1" : "192.0.2.1");
        m.peer.local_ip = ip(v6 ? "2001:db8::2" : "192.0.2.2");
        m.message = kKeepalive;
        const Timestamp t{1700000000, et ? 123456U : 0U, et};
        round_trip(
            m, [&](const Bgp4mpMessage& v, wire::Writer& w) { return encode(v, t, w); },
            parse_bgp4mp_message);
        wire::Writer w;
        ASSERT_TRUE(encode(m, t, w));
        auto rec = parse_record(w.bytes());
        ASSERT_TRUE(rec);
        EXPECT_EQ(rec->header.type, et ? Type::Bgp4mpEt : Type::Bgp4mp);
        EXPECT_EQ(rec->header.microseconds, t.microseconds);
        const bgp::ParseContext ctx = parse_context_for(*rec);
        EXPECT_EQ(ctx.four_octet_as, is_as4(subtype));
        EXPECT_EQ(ctx.add_path(bgp::kIpv6Unicast), is_add_path(subtype));
        EXPECT_FALSE(mp_reach_abbreviated(*rec));
      }
    }
  }
}

TEST(MrtRecord, Bgp4mpStateChangeRoundTrips) {
  for (auto subtype : {Bgp4mpSubtype::StateChange, Bgp4mpSubtype::StateChangeAs4}) {
    Bgp4mpStateChange c;
    c.subtype = subtype;
    c.peer = {64496, 64497, 0, ip("2001:db8::1"), ip("2001:db8::2")};
    c.old_state = static_cast<std::uint16_t>(BgpState::OpenConfirm);
    c.new_state = static_cast<std::uint16_t>(BgpState::Established);
    for (bool et : {false, true}) {
      const Timestamp t{1700000001, et ? 999999U : 0U, et};
      round_trip(
          c, [&](const Bgp4mpStateChange& v, wire::Writer& w) { return encode(v, t, w); },
          parse_bgp4mp_state_change);
    }
  }
}

TEST(MrtRecord, EncoderRefusesWideAsInTwoOctetSubtype) {
  Bgp4mpMessage m;
  m.subtype = Bgp4mpSubtype::Message;
  m.peer = {4200000000U, 1, 0, ip("192.0.2.1"), ip("192.0.2.2")};
  wire::Writer w;
  auto st = encode(m, Timestamp{}, w);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::BadValue);
}

TEST(MrtRecord, PeerIndexTableRoundTrips) {
  PeerIndexTable t;
  t.collector_bgp_id = 0xc0000201;
  t.view_name = "bgpscribe";
  t.peers.push_back(Peer::make(0x0a000001, ip("192.0.2.1"), 64496));
  t.peers.push_back(Peer::make(0x0a000002, ip("2001:db8::1"), 4200000000U));
  Peer forced = Peer::make(0x0a000003, ip("192.0.2.3"), 65000);
  forced.peer_type |= Peer::kAs4;  // a small AS written 4 octets wide stays so
  t.peers.push_back(forced);
  round_trip(
      t, [](const PeerIndexTable& v, wire::Writer& w) { return encode(v, 1700000000, w); },
      parse_peer_index_table);
  PeerIndexTable empty;
  round_trip(
      empty, [](const PeerIndexTable& v, wire::Writer& w) { return encode(v, 0, w); },
      parse_peer_index_table);
}

TEST(MrtRecord, RibRoundTripsEverySubtype) {
  const std::array<RibEntry, 2> entries{RibEntry{0, 1699999999, 1, kAttrs},
                                        RibEntry{2, 1699999998, 77, kAttrs}};
  for (std::uint16_t s : {2, 3, 4, 5, 8, 9, 10, 11}) {
    const auto subtype = static_cast<TableDumpV2Subtype>(s);
    const bool v4 = family_of(subtype).afi == bgp::Afi::Ipv4;
    const auto prefix = *bgp::Prefix::parse(v4 ? "198.51.100.0/22" : "2001:db8:40::/42");
    std::vector<RibEntry> values(entries.begin(), entries.end());
    if (!is_add_path(subtype)) {
      for (auto& e : values) {
        e.path_id = 0;
      }
    }
    wire::Writer w;
    ASSERT_TRUE(encode_rib(subtype, 42, prefix, values, 1700000000, w));
    auto rec = parse_record(w.bytes());
    ASSERT_TRUE(rec);
    EXPECT_TRUE(parse_context_for(*rec).four_octet_as);
    EXPECT_TRUE(mp_reach_abbreviated(*rec));
    auto rib = parse_rib(*rec);
    ASSERT_TRUE(rib) << rib.error().message;
    EXPECT_EQ(rib->subtype, subtype);
    EXPECT_EQ(rib->sequence_number, 42U);
    EXPECT_EQ(rib->family, family_of(subtype));
    EXPECT_EQ(rib->prefix(), prefix);
    EXPECT_EQ(rib->entry_count, 2);
    std::vector<RibEntry> back(rib->begin(), rib->end());
    EXPECT_EQ(back, values);
    round_trip(
        *rib, [](const Rib& v, wire::Writer& out) { return encode(v, 1700000000, out); },
        parse_rib);
  }
}

TEST(MrtRecord, RibGenericRoundTrips) {
  // VPNv4 NLRI: 88 bits = label(3) + RD(8) + /0... here label + RD + 10.0.0.0/8 = 24+64+8 bits.
  const Buf vpn_nlri = {0x60, 0x00, 0x01, 0x01, 0x00, 0x00, 0xfd,
                        0xe8, 0x00, 0x00, 0x00, 0x01, 0x0a};
  const Buf evpn_nlri = {0x02, 0x03, 0xaa, 0xbb, 0xcc};  // route type 2, length 3
  for (auto [subtype, family, nlri] :
       {std::tuple{TableDumpV2Subtype::RibGeneric, bgp::AfiSafi{bgp::Afi::Ipv4, bgp::Safi::MplsVpn},
                   vpn_nlri},
        std::tuple{TableDumpV2Subtype::RibGenericAddpath,
                   bgp::AfiSafi{bgp::Afi::L2vpn, bgp::Safi::Evpn}, evpn_nlri}}) {
    const std::array<RibEntry, 1> entries{RibEntry{1, 5, is_add_path(subtype) ? 9U : 0U, kAttrs}};
    wire::Writer block;
    ASSERT_TRUE(encode_rib_entries(entries, is_add_path(subtype), block));
    Rib rib;
    rib.subtype = subtype;
    rib.sequence_number = 7;
    rib.family = family;
    rib.nlri = nlri;
    rib.entry_count = 1;
    rib.entries = block.bytes();
    round_trip(
        rib, [](const Rib& v, wire::Writer& w) { return encode(v, 1, w); }, parse_rib);
    EXPECT_FALSE(rib.prefix().has_value());
  }
}

TEST(MrtRecord, TableDumpV1RoundTripsAllFourSubtypes) {
  for (std::uint16_t s : {1, 2, 3, 4}) {
    TableDumpEntry e;
    e.subtype = static_cast<TableDumpSubtype>(s);
    const bool v6 = s == 2 || s == 4;
    e.view_number = 0;
    e.sequence_number = 65535;
    e.prefix = ip(v6 ? "2001:db8::" : "192.0.2.0");
    e.prefix_length = v6 ? 32 : 24;
    e.status = 1;
    e.originated_time = 1000;
    e.peer_ip = ip(v6 ? "2001:db8::9" : "192.0.2.9");
    e.peer_as = e.as4() ? 4200000000U : 3333;
    e.attributes = kAttrs;
    round_trip(
        e, [](const TableDumpEntry& v, wire::Writer& w) { return encode(v, 1027380000, w); },
        parse_table_dump);
  }
}

TEST(MrtRecord, DeprecatedBgpRecordsRoundTrip) {
  for (auto subtype :
       {BgpSubtype::Update, BgpSubtype::Open, BgpSubtype::Notify, BgpSubtype::Keepalive}) {
    for (Type type : {Type::Bgp, Type::Bgp4Plus}) {
      const bool v6 = type != Type::Bgp;
      BgpMessage m;
      m.type = type;
      m.subtype = subtype;
      m.peer_as = 3333;
      m.peer_ip = ip(v6 ? "2001:db8::1" : "193.0.0.56");
      m.local_as = 12654;
      m.local_ip = ip(v6 ? "2001:db8::2" : "193.0.4.28");
      const Buf payload = {0x00, 0x00, 0x00, 0x00};  // empty UPDATE body
      m.payload = subtype == BgpSubtype::Keepalive ? Bytes{} : Bytes{payload};
      round_trip(
          m, [](const BgpMessage& v, wire::Writer& w) { return encode(v, 946771200, w); },
          parse_bgp_message);
      wire::Writer full;
      ASSERT_TRUE(to_bgp_message(m, full));
      EXPECT_EQ(full.size(), 19 + m.payload.size());
      EXPECT_EQ(full.bytes()[18], static_cast<std::uint8_t>(m.message_type()));
    }
  }
  BgpStateChange c;
  c.peer_as = 3333;
  c.peer_ip = ip("193.0.0.56");
  c.old_state = 1;
  c.new_state = 2;
  round_trip(
      c, [](const BgpStateChange& v, wire::Writer& w) { return encode(v, 946771200, w); },
      parse_bgp_state_change);
}

TEST(MrtRecord, UnknownTypesAndGeoPeerTableStayRaw) {
  const Buf body = {1, 2, 3, 4, 5};
  for (auto [type, subtype] :
       {std::pair{Type::Ospfv2, std::uint16_t{0}}, std::pair{Type::TableDumpV2, std::uint16_t{7}},
        std::pair{Type::Bgp4mp, std::uint16_t{2}},
        std::pair{static_cast<Type>(999), std::uint16_t{1}},
        std::pair{Type::IsisEt, std::uint16_t{0}}}) {
    wire::Writer w;
    ASSERT_TRUE(encode_raw(type, subtype, Timestamp{5, 6, is_extended_time(type)}, body, w));
    auto rec = parse_record(w.bytes());
    ASSERT_TRUE(rec);
    auto parsed = parse_body(*rec);
    ASSERT_TRUE(parsed);
    ASSERT_TRUE(std::holds_alternative<Raw>(*parsed));
    EXPECT_TRUE(bytes_equal(std::get<Raw>(*parsed).body, body));
    wire::Writer again;
    ASSERT_TRUE(encode(*parsed, rec->header, again));
    EXPECT_TRUE(bytes_equal(again.bytes(), w.bytes()));
  }
  EXPECT_STREQ(subtype_name(Type::TableDumpV2, 7), "GEO_PEER_TABLE");
  EXPECT_STREQ(subtype_name(Type::Bgp, 3), "STATE_CHANGE");
  EXPECT_STREQ(subtype_name(Type::Bgp4mpEt, 11), "BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH");
  EXPECT_EQ(subtype_name(Type::Bgp4mp, 12), nullptr);
  EXPECT_STREQ(to_string(Type::Bgp4Plus01), "BGP4PLUS_01");
}

// --- malformed input ------------------------------------------------------------------------

Record must_record(const Buf& bytes) {
  auto rec = parse_record(bytes);
  EXPECT_TRUE(rec) << (rec ? "" : rec.error().message);
  return *rec;
}

TEST(MrtMalformed, FramingNeedsTheWholeHeader) {
  const Buf b = {0x5e, 0x0c, 0x6b, 0x00,  // timestamp
                 0x00, 0x10,              // type BGP4MP
                 0x00};                   // subtype, cut short
  const Frame f = frame(b);
  EXPECT_EQ(f.status, FrameStatus::NeedMore);
  EXPECT_EQ(f.size, 12U);
  auto rec = parse_record(b);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(rec.error().offset, 6U);
}

TEST(MrtMalformed, FramingAsksForTheRestOfTheRecord) {
  const Buf b = {0x5e, 0x0c, 0x6b, 0x00,  // timestamp
                 0x00, 0x10,              // type BGP4MP
                 0x00, 0x04,              // subtype MESSAGE_AS4
                 0x00, 0x00, 0x00, 0x20,  // length 32
                 0x00, 0x00};             // 2 of the 32 body octets
  const Frame f = frame(b);
  EXPECT_EQ(f.status, FrameStatus::NeedMore);
  EXPECT_EQ(f.size, 44U);
  auto rec = parse_record(b);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(rec.error().offset, 8U);  // the length field that promised more
}

TEST(MrtMalformed, AbsurdLengthIsRefusedButStillFrames) {
  const Buf b = {0x5e, 0x0c, 0x6b, 0x00,   // timestamp
                 0x00, 0x0d,               // type TABLE_DUMP_V2
                 0x00, 0x02,               // subtype RIB_IPV4_UNICAST
                 0x01, 0x00, 0x00, 0x01};  // length 16 MiB + 1
  const Frame f = frame(b);
  EXPECT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.kind, ErrorKind::TooLarge);
  EXPECT_EQ(f.error.offset, 8U);
  EXPECT_EQ(f.size, 12U + 0x01000001U);
}

TEST(MrtMalformed, ExtendedTimeLengthMustHoldMicroseconds) {
  const Buf b = {0x5e, 0x0c, 0x6b, 0x00,  // timestamp
                 0x00, 0x11,              // type BGP4MP_ET
                 0x00, 0x04,              // subtype MESSAGE_AS4
                 0x00, 0x00, 0x00, 0x02,  // length 2: less than the 4 microsecond octets
                 0x00, 0x00};             // two octets
  const Frame f = frame(b);
  EXPECT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.kind, ErrorKind::BadLength);
  EXPECT_EQ(f.error.offset, 8U);
  EXPECT_EQ(f.size, 14U);
  auto rec = parse_record(b);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(rec.error().offset, 8U);
}

TEST(MrtMalformed, BytesAfterTheRecordAreRefused) {
  const Buf b = {0x00, 0x00, 0x00, 0x01,  // timestamp
                 0x00, 0x0b,              // type OSPFv2
                 0x00, 0x00,              // subtype
                 0x00, 0x00, 0x00, 0x01,  // length 1
                 0xaa,                    // the body
                 0xbb};                   // one octet too many
  auto rec = parse_record(b);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(rec.error().offset, 13U);
}

TEST(MrtMalformed, TableDumpPrefixLengthTooLong) {
  const Buf b = {0x3d, 0x3c, 0x97, 0xcf,  // timestamp
                 0x00, 0x0c, 0x00, 0x01,  // TABLE_DUMP, AFI_IPv4
                 0x00, 0x00, 0x00, 0x16,  // length 22
                 0x00, 0x00,              // view
                 0x00, 0x01,              // sequence
                 0xc0, 0x00, 0x02, 0x00,  // prefix 192.0.2.0
                 0x21,                    // prefix length 33: too long (offset 20)
                 0x01,                    // status
                 0x00, 0x00, 0x00, 0x00,  // originated
                 0xc0, 0x00, 0x02, 0x09,  // peer IP
                 0x0d, 0x05,              // peer AS
                 0x00, 0x00};             // attribute length 0
  auto e = parse_table_dump(must_record(b));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::BadValue);
  EXPECT_EQ(e.error().offset, 20U);
}

TEST(MrtMalformed, TableDumpAttributeLengthPastTheRecord) {
  const Buf b = {0x3d, 0x3c, 0x97, 0xcf,  // timestamp
                 0x00, 0x0c, 0x00, 0x01,  // TABLE_DUMP, AFI_IPv4
                 0x00, 0x00, 0x00, 0x17,  // length 23
                 0x00, 0x00,              // view
                 0x00, 0x01,              // sequence
                 0xc0, 0x00, 0x02, 0x00,  // prefix
                 0x18, 0x01,              // /24, status 1
                 0x00, 0x00, 0x00, 0x00,  // originated
                 0xc0, 0x00, 0x02, 0x09,  // peer IP
                 0x0d, 0x05,              // peer AS
                 0x00, 0x05,              // attribute length 5 (offset 32) ...
                 0x40};                   // ... but one octet follows
  auto e = parse_table_dump(must_record(b));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(e.error().offset, 32U);
}

TEST(MrtMalformed, PeerIndexViewNamePastTheRecord) {
  const Buf b = {0x53, 0x7e, 0xe3, 0x60,  // timestamp
                 0x00, 0x0d, 0x00, 0x01,  // TABLE_DUMP_V2, PEER_INDEX_TABLE
                 0x00, 0x00, 0x00, 0x08,  // length 8
                 0x80, 0xdf, 0x33, 0x66,  // collector BGP ID
                 0x00, 0x09,              // view name length 9 (offset 16) ...
                 0x61, 0x62};             // ... but 2 octets left
  auto t = parse_peer_index_table(must_record(b));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(t.error().offset, 16U);
}

TEST(MrtMalformed, PeerIndexPeerCountPastTheRecord) {
  const Buf b = {0x53, 0x7e, 0xe3, 0x60,  // timestamp
                 0x00, 0x0d, 0x00, 0x01,  // TABLE_DUMP_V2, PEER_INDEX_TABLE
                 0x00, 0x00, 0x00, 0x13,  // length 19
                 0x80, 0xdf, 0x33, 0x66,  // collector BGP ID
                 0x00, 0x00,              // empty view name
                 0x00, 0x02,              // 2 peers (offset 18), room for one
                 0x00,                    // peer type: IPv4, 2-octet AS
                 0x0a, 0x00, 0x00, 0x01,  // peer BGP ID
                 0xc0, 0x00, 0x02, 0x01,  // peer IP
                 0xfb, 0xf0};             // peer AS
  auto t = parse_peer_index_table(must_record(b));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(t.error().offset, 18U);
}

TEST(MrtMalformed, PeerIndexIpv6PeerCutShort) {
  const Buf b = {0x53, 0x7e, 0xe3, 0x60,  // timestamp
                 0x00, 0x0d, 0x00, 0x01,  // TABLE_DUMP_V2, PEER_INDEX_TABLE
                 0x00, 0x00, 0x00, 0x13,  // length 19
                 0x80, 0xdf, 0x33, 0x66,  // collector BGP ID
                 0x00, 0x00,              // empty view name
                 0x00, 0x01,              // 1 peer
                 0x01,                    // peer type: IPv6 (16-octet IP), 2-octet AS
                 0x0a, 0x00, 0x00, 0x01,  // peer BGP ID
                 0x20, 0x01, 0x0d, 0xb8,  // IPv6 address (offset 25), 12 octets missing
                 0xfb, 0xf0};
  auto t = parse_peer_index_table(must_record(b));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(t.error().offset, 25U);
}

TEST(MrtMalformed, RibPrefixLengthTooLong) {
  const Buf b = {0x53, 0x7e, 0xe3, 0x60,  // timestamp
                 0x00, 0x0d, 0x00, 0x02,  // TABLE_DUMP_V2, RIB_IPV4_UNICAST
                 0x00, 0x00, 0x00, 0x07,  // length 7
                 0x00, 0x00, 0x00, 0x00,  // sequence
                 0x21,                    // prefix length 33 (offset 16)
                 0x00, 0x00};             // entry count 0
  auto r = parse_rib(must_record(b));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::BadValue);
  EXPECT_EQ(r.error().offset, 16U);
}

TEST(MrtMalformed, RibEntryAttributesPastTheRecord) {
  const Buf b = {0x53, 0x7e, 0xe3, 0x60,  // timestamp
                 0x00, 0x0d, 0x00, 0x02,  // TABLE_DUMP_V2, RIB_IPV4_UNICAST
                 0x00, 0x00, 0x00, 0x13,  // length 19
                 0x00, 0x00, 0x00, 0x00,  // sequence
                 0x08, 0x0a,              // 10.0.0.0/8
                 0x00, 0x01,              // one entry
                 0x00, 0x00,              // peer index
                 0x53, 0x7e, 0xe3, 0x60,  // originated time
                 0x00, 0x10,              // attribute length 16 (offset 26) ...
                 0x40, 0x01, 0x01};       // ... 3 octets follow
  auto r = parse_rib(must_record(b));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(r.error().offset, 26U);
}

TEST(MrtMalformed, RibEntryCountLargerThanTheEntries) {
  const Buf b = {0x53, 0x7e, 0xe3, 0x60,  // timestamp
                 0x00, 0x0d, 0x00, 0x08,  // TABLE_DUMP_V2, RIB_IPV4_UNICAST_ADDPATH
                 0x00, 0x00, 0x00, 0x14,  // length 20
                 0x00, 0x00, 0x00, 0x00,  // sequence
                 0x08, 0x0a,              // 10.0.0.0/8
                 0x00, 0x02,              // two entries, one present
                 0x00, 0x00,              // peer index
                 0x53, 0x7e, 0xe3, 0x60,  // originated time
                 0x00, 0x00, 0x00, 0x01,  // path id
                 0x00, 0x00};             // attribute length 0; the second entry (offset 32)
                                          // is missing
  auto r = parse_rib(must_record(b));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(r.error().offset, 32U);
}

TEST(MrtMalformed, RibBytesAfterTheEntries) {
  const Buf b = {0x53, 0x7e, 0xe3, 0x60,  // timestamp
                 0x00, 0x0d, 0x00, 0x04,  // TABLE_DUMP_V2, RIB_IPV6_UNICAST
                 0x00, 0x00, 0x00, 0x0a,  // length 10
                 0x00, 0x00, 0x00, 0x01,  // sequence
                 0x10, 0x20, 0x01,        // 2001::/16
                 0x00, 0x00,              // no entries
                 0xee};                   // stray octet (offset 21)
  auto r = parse_rib(must_record(b));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(r.error().offset, 21U);
}

TEST(MrtMalformed, Bgp4mpUnknownAddressFamily) {
  const Buf b = {0x5c, 0x2a, 0xae, 0x80,  // timestamp
                 0x00, 0x11, 0x00, 0x04,  // BGP4MP_ET, MESSAGE_AS4
                 0x00, 0x00, 0x00, 0x14,  // length 20 (microseconds included)
                 0x00, 0x00, 0x00, 0x01,  // microseconds
                 0x00, 0x00, 0xfb, 0xf0,  // peer AS
                 0x00, 0x00, 0xfb, 0xf1,  // local AS
                 0x00, 0x00,              // interface index
                 0x00, 0x03,              // address family 3 (offset 26): neither v4 nor v6
                 0x00, 0x00, 0x00, 0x00};
  auto m = parse_bgp4mp_message(must_record(b));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::BadValue);
  EXPECT_EQ(m.error().offset, 26U);
}

TEST(MrtMalformed, Bgp4mpPeerAddressCutShort) {
  const Buf b = {0x5c, 0x2a, 0xae, 0x80,   // timestamp
                 0x00, 0x10, 0x00, 0x01,   // BGP4MP, MESSAGE (2-octet AS)
                 0x00, 0x00, 0x00, 0x0c,   // length 12
                 0xfb, 0xf0,               // peer AS
                 0xfb, 0xf1,               // local AS
                 0x00, 0x00,               // interface index
                 0x00, 0x02,               // IPv6
                 0x20, 0x01, 0x0d, 0xb8};  // peer IP (offset 20): 4 of 16 octets
  auto m = parse_bgp4mp_message(must_record(b));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(m.error().offset, 20U);
}

TEST(MrtMalformed, Bgp4mpStateChangeWithTrailingBytes) {
  const Buf b = {0x5c, 0x2a, 0xae, 0x80,  // timestamp
                 0x00, 0x10, 0x00, 0x00,  // BGP4MP, STATE_CHANGE
                 0x00, 0x00, 0x00, 0x15,  // length 21
                 0xfb, 0xf0, 0xfb, 0xf1,  // peer AS, local AS
                 0x00, 0x00, 0x00, 0x01,  // interface index, IPv4
                 0xc0, 0x00, 0x02, 0x01,  // peer IP
                 0xc0, 0x00, 0x02, 0x02,  // local IP
                 0x00, 0x01, 0x00, 0x02,  // Idle -> Connect
                 0x00};                   // stray octet (offset 32)
  auto c = parse_bgp4mp_state_change(must_record(b));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::BadLength);
  EXPECT_EQ(c.error().offset, 32U);
}

TEST(MrtMalformed, DeprecatedStateChangeCutShort) {
  const Buf b = {0x38, 0x6f, 0x8e, 0x00,  // timestamp (January 2000)
                 0x00, 0x05, 0x00, 0x03,  // BGP, STATE_CHANGE
                 0x00, 0x00, 0x00, 0x08,  // length 8
                 0x0d, 0x05,              // peer AS
                 0xc1, 0x00, 0x00, 0x38,  // peer IP
                 0x00, 0x01};             // old state; new state (offset 20) missing
  auto c = parse_bgp_state_change(must_record(b));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(c.error().offset, 20U);
}

}  // namespace
}  // namespace bgpscribe::codec::mrt
