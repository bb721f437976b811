// mrt::check_record: the one decision per record that every dump format follows, and the legacy
// forms it accepts (Zebra's short STATE_CHANGE, several TABLE_DUMP entries per record).
#include "codec/mrt/check.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/body.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::mrt {
namespace {

using Buf = std::vector<std::uint8_t>;

Record must_record(const Buf& bytes) {
  auto r = parse_record(bytes);
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

// A BGP4MP_MESSAGE_AS4 record, IPv4 peer, around `message`.
Buf bgp4mp_as4(const Buf& message) {
  Buf b = {0x65, 0x53, 0xf1, 0x00,   // timestamp
           0x00, 0x10, 0x00, 0x04,   // BGP4MP, MESSAGE_AS4
           0x00, 0x00, 0x00, 0x00,   // length, patched below
           0x00, 0x00, 0xfd, 0xe9,   // peer AS 65001
           0x00, 0x00, 0xfd, 0xe8,   // local AS 65000
           0x00, 0x00, 0x00, 0x01,   // interface index, AFI IPv4
           0xc0, 0x00, 0x02, 0x01,   // peer IP
           0xc0, 0x00, 0x02, 0xfe};  // local IP
  b.insert(b.end(), message.begin(), message.end());
  const std::size_t length = b.size() - 12;
  b[10] = static_cast<std::uint8_t>(length >> 8);
  b[11] = static_cast<std::uint8_t>(length);
  return b;
}

// An UPDATE with ORIGIN, AS_PATH (4-octet 65001), NEXT_HOP and `nlri` in the NLRI field.
Buf update_with_nlri(const Buf& nlri) {
  const Buf attributes = {0x40, 0x01, 0x01, 0x00,        // ORIGIN IGP
                          0x40, 0x02, 0x06, 0x02, 0x01,  // AS_PATH: one AS_SEQUENCE of one
                          0x00, 0x00, 0xfd, 0xe9,        //   65001
                          0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01};  // NEXT_HOP 192.0.2.1
  return tests::update_message({}, attributes, nlri);
}

TEST(MrtCheck, CleanUpdateIsPrintedWithTheSubtypesContext) {
  const auto c =
      check_record(must_record(bgp4mp_as4(update_with_nlri({0x18, 0xcb, 0x00, 0x71}))), nullptr);
  EXPECT_EQ(c.verdict, Verdict::Clean);
  EXPECT_TRUE(c.context.four_octet_as);
  EXPECT_FALSE(c.context.add_path(bgp::kIpv4Unicast));
  EXPECT_FALSE(c.add_path_inferred);
}

// Path id 1 then 198.51.100.0/24 read as plain prefixes: 0/0 three times, then a /1 whose
// octet is 0x18, then a length of 198 bits: not plain, but whole with path ids.
TEST(MrtCheck, AddPathNlriUnderAPlainSubtypeAreAWarning) {
  const Buf record = bgp4mp_as4(update_with_nlri({0x00, 0x00, 0x00, 0x01, 0x18, 0xc6, 0x33, 0x64}));
  const auto c = check_record(must_record(record), nullptr);
  EXPECT_EQ(c.verdict, Verdict::Warning);
  EXPECT_TRUE(c.add_path_inferred);
  EXPECT_TRUE(c.context.add_path(bgp::kIpv4Unicast));
  // 32 octets of MRT and BGP4MP headers, 19 of BGP header, 24 of lengths and attributes: the
  // NLRI field starts at 75; as plain prefixes the fifth entry (0xc6 at 80) fails.
  EXPECT_EQ(c.problem.offset, 80U);
}

TEST(MrtCheck, NlriThatParseNeitherWayAreMalformedAtTheirOffset) {
  // A prefix length of 33 at offset 75.
  const auto c = check_record(
      must_record(bgp4mp_as4(update_with_nlri({0x21, 0xc0, 0x00, 0x02, 0x00, 0x01}))), nullptr);
  EXPECT_EQ(c.verdict, Verdict::Malformed);
  EXPECT_FALSE(c.printable());
  EXPECT_EQ(c.problem.offset, 75U);
}

TEST(MrtCheck, MessageHeaderMustAgreeWithTheRecord) {
  Buf bad_marker = update_with_nlri({});
  bad_marker[5] = 0x00;
  auto c = check_record(must_record(bgp4mp_as4(bad_marker)), nullptr);
  EXPECT_EQ(c.verdict, Verdict::Malformed);
  EXPECT_EQ(c.problem.offset, 32U);
  Buf long_field = update_with_nlri({});
  long_field[17] = static_cast<std::uint8_t>(long_field[17] + 1);  // one more than there is
  c = check_record(must_record(bgp4mp_as4(long_field)), nullptr);
  EXPECT_EQ(c.verdict, Verdict::Malformed);
  EXPECT_EQ(c.problem.offset, 48U);  // the length field
}

TEST(MrtCheck, DeprecatedUpdateOffsetsCountFromTheRecord) {
  const Buf b = {0x38, 0x6f, 0x8e, 0x00,  // timestamp (January 2000)
                 0x00, 0x05, 0x00, 0x01,  // BGP, UPDATE
                 0x00, 0x00, 0x00, 0x10,  // length 16
                 0xfd, 0xe9,              // peer AS
                 0xc0, 0x00, 0x02, 0x01,  // peer IP
                 0xfd, 0xe8,              // local AS
                 0xc0, 0x00, 0x02, 0xfe,  // local IP
                 0x01, 0x00,              // Withdrawn Routes Length 256 (offset 24) ...
                 0x00, 0x00};             // ... of which 2 octets are there
  const auto c = check_record(must_record(b), nullptr);
  EXPECT_EQ(c.verdict, Verdict::Malformed);
  EXPECT_EQ(c.problem.offset, 24U);
}

TEST(MrtCheck, ZebraShortStateChangeParsesAndRoundTrips) {
  const Buf b = {0x38, 0x6f, 0x8e, 0x00,   // timestamp
                 0x00, 0x10, 0x00, 0x00,   // BGP4MP, STATE_CHANGE
                 0x00, 0x00, 0x00, 0x08,   // length 8: Zebra's short form
                 0xfd, 0xe9, 0xfd, 0xe8,   // peer AS 65001, local AS 65000
                 0x00, 0x01, 0x00, 0x02};  // Idle -> Connect
  const Record record = must_record(b);
  EXPECT_EQ(check_record(record, nullptr).verdict, Verdict::Clean);
  auto c = parse_bgp4mp_state_change(record);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->zebra_short);
  EXPECT_EQ(c->peer.peer_as, 65001U);
  EXPECT_EQ(c->peer.local_as, 65000U);
  EXPECT_EQ(c->old_state, 1);
  EXPECT_EQ(c->new_state, 2);
  EXPECT_TRUE(c->peer.peer_ip.is_unspecified());
  wire::Writer w;
  ASSERT_TRUE(encode(*c, record.header.time(), w));
  EXPECT_TRUE(bytes_equal(w.bytes(), b));
}

// RFC 6396 4.2 entry: View(2) Sequence(2) Prefix(4) Length(1) Status(1) Originated(4) Peer IP(4)
// Peer AS(2) Attribute Length(2) and 4 octets of attributes (ORIGIN IGP): 26 octets.
Buf table_dump_entry(std::uint8_t seq, std::uint8_t third_octet) {
  return {0x00, 0x00, 0x00,        seq,                // view, sequence
          0xc6, 0x33, third_octet, 0x00, 0x18,         // prefix 198.51.x.0/24
          0x01, 0x65, 0x53,        0xf0, 0x00,         // status, originated
          0xc0, 0x00, 0x02,        0x01, 0xfd, 0xe9,   // peer IP, peer AS
          0x00, 0x04, 0x40,        0x01, 0x01, 0x00};  // attributes
}

Buf table_dump_record(const std::vector<Buf>& parts) {
  Buf b = {0x65, 0x53, 0xf1, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
  for (const auto& p : parts) {
    b.insert(b.end(), p.begin(), p.end());
  }
  b[11] = static_cast<std::uint8_t>(b.size() - 12);
  return b;
}

TEST(MrtCheck, SeveralTableDumpEntriesInOneRecordAreCounted) {
  // The record views its bytes: they must outlive it.
  const Buf bytes = table_dump_record({table_dump_entry(0, 100), table_dump_entry(1, 101)});
  const Record record = must_record(bytes);
  const auto c = check_record(record, nullptr);
  EXPECT_EQ(c.verdict, Verdict::Clean);
  EXPECT_EQ(c.entries, 2U);
  EXPECT_FALSE(parse_table_dump(record)) << "one record, one entry: the strict parser refuses";
  std::size_t pos = 0;
  auto first = parse_table_dump_entry(record, pos);
  ASSERT_TRUE(first);
  EXPECT_EQ(pos, 26U);
  auto second = parse_table_dump_entry(record, pos);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->prefix, bgp::IpAddress::v4(0xC6336500));
  EXPECT_EQ(pos, record.body.size());

  // Bytes after the whole entries that are not one: printed, with a warning at their offset.
  const auto tail = check_record(
      must_record(table_dump_record({table_dump_entry(0, 100), Buf{0x00, 0x00, 0x00}})), nullptr);
  EXPECT_EQ(tail.verdict, Verdict::Warning);
  EXPECT_EQ(tail.entries, 1U);
  EXPECT_EQ(tail.problem.offset, 12U + 26U);
}

TEST(MrtCheck, RibEntriesNeedAPeerTableAndPeersInIt) {
  // RIB_IPV4_UNICAST, sequence 0, 198.51.100.0/24, one entry of peer index 1.
  const Buf b = {0x65, 0x53, 0xf1, 0x00,   // timestamp
                 0x00, 0x0d, 0x00, 0x02,   // TABLE_DUMP_V2, RIB_IPV4_UNICAST
                 0x00, 0x00, 0x00, 0x16,   // length 22
                 0x00, 0x00, 0x00, 0x00,   // sequence
                 0x18, 0xc6, 0x33, 0x64,   // 198.51.100.0/24
                 0x00, 0x01,               // one entry
                 0x00, 0x01,               // peer index 1 (offset 22)
                 0x65, 0x53, 0xf0, 0x00,   // originated
                 0x00, 0x04,               // attribute length
                 0x40, 0x01, 0x01, 0x00};  // ORIGIN IGP
  const Record record = must_record(b);
  EXPECT_EQ(check_record(record, nullptr).verdict, Verdict::Malformed);
  PeerIndexTable one;
  one.peers.push_back(Peer::make(1, bgp::IpAddress::v4(0xC0000201), 65001));
  const auto c = check_record(record, &one);
  EXPECT_EQ(c.verdict, Verdict::Malformed);
  EXPECT_EQ(c.problem.offset, 22U);
  PeerIndexTable two = one;
  two.peers.push_back(one.peers[0]);
  EXPECT_EQ(check_record(record, &two).verdict, Verdict::Clean);
}

TEST(MrtCheck, RibEntriesWithUndeclaredPathIdsAreAWarning) {
  const Buf b = {0x65, 0x53, 0xf1, 0x00,   // timestamp
                 0x00, 0x0d, 0x00, 0x02,   // TABLE_DUMP_V2, RIB_IPV4_UNICAST (no ADD-PATH)
                 0x00, 0x00, 0x00, 0x1a,   // length 26
                 0x00, 0x00, 0x00, 0x00,   // sequence
                 0x18, 0xc6, 0x33, 0x64,   // 198.51.100.0/24
                 0x00, 0x01,               // one entry
                 0x00, 0x00,               // peer index 0
                 0x65, 0x53, 0xf0, 0x00,   // originated
                 0x00, 0x00, 0x00, 0x07,   // path identifier 7 (RFC 8050)
                 0x00, 0x04,               // attribute length
                 0x40, 0x01, 0x01, 0x00};  // ORIGIN IGP
  PeerIndexTable peers;
  peers.peers.push_back(Peer::make(1, bgp::IpAddress::v4(0xC0000201), 65001));
  const Record record = must_record(b);
  const auto c = check_record(record, &peers);
  EXPECT_EQ(c.verdict, Verdict::Warning);
  EXPECT_TRUE(c.add_path_inferred);
  auto rib = parse_rib_with_path_ids(record);
  ASSERT_TRUE(rib);
  ASSERT_EQ(rib->entry_count, 1);
  EXPECT_EQ(rib->begin()->path_id, 7U);
}

TEST(MrtCheck, KindsWeKeepAsBytesAreUnsupportedNotMalformed) {
  const Buf entry = {0x65, 0x53, 0xf1, 0x00,  // timestamp
                     0x00, 0x10, 0x00, 0x02,  // BGP4MP, Zebra's BGP4MP_ENTRY
                     0x00, 0x00, 0x00, 0x02, 0x00, 0x00};
  EXPECT_EQ(check_record(must_record(entry), nullptr).verdict, Verdict::Unsupported);
  const Buf ospf = {0x65, 0x53, 0xf1, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(check_record(must_record(ospf), nullptr).verdict, Verdict::Unsupported);
}

}  // namespace
}  // namespace bgpscribe::codec::mrt
