#include "codec/bgp/as_path.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/text.hpp"

namespace bgpscribe::codec::bgp {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr auto kSet = AsSegmentType::AsSet;
constexpr auto kSeq = AsSegmentType::AsSequence;
constexpr auto kConfedSeq = AsSegmentType::AsConfedSequence;
constexpr auto kConfedSet = AsSegmentType::AsConfedSet;

Result<AsPathView> parse(const Bytes& b, std::uint8_t as_size, std::uint32_t base = 0) {
  return AsPathView::parse(wire::Reader(b, base), as_size);
}

Bytes encode(const AsPath& path, std::uint8_t as_size) {
  wire::Writer w;
  encode_as_path(w, path, as_size);
  return w.take();
}

// A parsed path that must be valid; the view keeps pointing into `b`.
AsPathView view(const Bytes& b, std::uint8_t as_size) {
  auto v = parse(b, as_size);
  EXPECT_TRUE(v) << (v ? "" : v.error().message);
  return v ? *v : AsPathView{};
}

TEST(AsPath, ParsesEverySegmentTypeWithFourOctetAsns) {
  const Bytes b = {
      0x02, 0x02, 0x00, 0x00, 0xFD, 0xE8, 0x00, 0x03, 0x0D, 0x40,  // AS_SEQUENCE 65000 200000
      0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // AS_SET {1,2}
      0x03, 0x01, 0x00, 0x00, 0xFD, 0xE9,                          // AS_CONFED_SEQUENCE (65001)
      0x04, 0x01, 0x00, 0x00, 0xFD, 0xEA,                          // AS_CONFED_SET [65002]
  };
  const AsPathView v = view(b, 4);
  const AsPath expected = {
      {kSeq, {65000, 200000}}, {kSet, {1, 2}}, {kConfedSeq, {65001}}, {kConfedSet, {65002}}};
  EXPECT_EQ(v.to_owned(), expected);
  EXPECT_EQ(v.path_length(), 3U);  // 2 for the sequence, 1 for the set, 0 for confederations
  EXPECT_EQ(to_string(expected), "65000 200000 {1,2} (65001) [65002]");
  EXPECT_EQ(v.as_size(), 4);
  EXPECT_EQ(v.bytes().size(), b.size());
}

TEST(AsPath, ParsesTwoOctetAsns) {
  const Bytes b = {
      0x02, 0x03, 0xFD, 0xE8, 0x5B, 0xA0, 0x00, 0x07,  // AS_SEQUENCE 65000 23456 7
  };
  const AsPathView v = view(b, 2);
  EXPECT_EQ(v.to_owned(), (AsPath{{kSeq, {65000, 23456, 7}}}));
  EXPECT_EQ(v.origin_as(), 7U);
}

TEST(AsPath, SameBytesDifferUnderTwoAndFourOctetWidths) {
  const Bytes b = {
      0x02, 0x02,              // AS_SEQUENCE, 2 ASNs
      0x00, 0x01, 0x00, 0x02,  // as 2-octet: 1 2; as 4-octet: 65538 and a truncated second
  };
  EXPECT_EQ(view(b, 2).to_owned(), (AsPath{{kSeq, {1, 2}}}));
  auto four = parse(b, 4);
  ASSERT_FALSE(four);
  EXPECT_EQ(four.error().subcode, update_subcode::kMalformedAsPath);
  const Bytes b4 = {
      0x02, 0x01,              // AS_SEQUENCE, 1 ASN
      0x00, 0x01, 0x00, 0x02,  // 65538
  };
  EXPECT_EQ(view(b4, 4).to_owned(), (AsPath{{kSeq, {65538}}}));
  EXPECT_FALSE(parse(b4, 2));  // 2-octet: 1, then a segment of type 0
}

TEST(AsPath, EmptyPathIsValid) {
  const AsPathView v = view({}, 4);
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.path_length(), 0U);
  EXPECT_EQ(v.origin_as(), 0U);
  EXPECT_TRUE(v.to_owned().empty());
}

TEST(AsPath, OriginAs) {
  EXPECT_EQ(view({0x02, 0x02, 0, 0, 0, 1, 0, 0, 0, 9}, 4).origin_as(), 9U);  // 1 9
  EXPECT_EQ(view({0x02, 0x01, 0, 0, 0, 1,                                    // 1
                  0x01, 0x01, 0, 0, 0, 5},                                   // {5}
                 4)
                .origin_as(),
            5U);
  EXPECT_EQ(view({0x02, 0x01, 0, 0, 0, 1,               // 1
                  0x01, 0x02, 0, 0, 0, 5, 0, 0, 0, 6},  // {5,6}
                 4)
                .origin_as(),
            0U);
}

TEST(AsPath, RoundTripsBothWidths) {
  const AsPath path = {{kConfedSeq, {65010, 65011}},
                       {kSeq, {3356, 1299, 64512}},
                       {kSet, {100, 200, 300}},
                       {kConfedSet, {65020}}};
  for (std::uint8_t as_size : {2, 4}) {
    SCOPED_TRACE(as_size);
    const Bytes bytes = encode(path, as_size);
    EXPECT_EQ(bytes.size(), 4 * 2 + 9U * as_size);
    const AsPathView v = view(bytes, as_size);
    EXPECT_EQ(v.to_owned(), path);
    EXPECT_EQ(encode(v.to_owned(), as_size), bytes);
  }
}

TEST(AsPath, FourOctetAsnsBecomeAsTransOnTwoOctetEncoding) {
  const Bytes bytes = encode({{kSeq, {65000, 4200000000U}}}, 2);
  EXPECT_EQ(bytes, (Bytes{0x02, 0x02, 0xFD, 0xE8, 0x5B, 0xA0}));  // 65000 23456
}

TEST(AsPath, LongSegmentsAreSplitAt255) {
  AsSegment seg{kSeq, {}};
  for (std::uint32_t i = 1; i <= 300; ++i) {
    seg.asns.push_back(i);
  }
  const Bytes bytes = encode({seg}, 4);
  ASSERT_EQ(bytes.size(), 2 + 255 * 4 + 2 + 45 * 4U);
  EXPECT_EQ(bytes[1], 255);
  EXPECT_EQ(bytes[2 + 255 * 4 + 1], 45);
  const AsPathView v = view(bytes, 4);
  EXPECT_EQ(v.path_length(), 300U);
  const AsPath owned = v.to_owned();
  ASSERT_EQ(owned.size(), 2U);
  EXPECT_EQ(owned[0].asns.size(), 255U);
  EXPECT_EQ(owned[1].asns.front(), 256U);
}

// RFC 7606 7.2 / RFC 7607: every malformation is UPDATE 3/11 and treat-as-withdraw.
void expect_malformed(const Result<AsPathView>& r, ErrorKind kind, std::uint32_t offset) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, kind);
  EXPECT_EQ(r.error().code, error_code::kUpdateMessage);
  EXPECT_EQ(r.error().subcode, update_subcode::kMalformedAsPath);
  EXPECT_EQ(r.error().reaction, Reaction::TreatAsWithdraw);
  EXPECT_EQ(r.error().offset, offset);
}

TEST(AsPathMalformed, SegmentTypeZero) {
  const Bytes b = {
      0x02, 0x01, 0x00, 0x00, 0x00, 0x01,  // AS_SEQUENCE 1
      0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // segment type 0
  };
  expect_malformed(parse(b, 4, 30), ErrorKind::BadValue, 36);
}

TEST(AsPathMalformed, SegmentTypeFive) {
  const Bytes b = {
      0x05, 0x01, 0x00, 0x02,  // segment type 5, one 2-octet ASN
  };
  expect_malformed(parse(b, 2, 10), ErrorKind::BadValue, 10);
}

TEST(AsPathMalformed, SegmentCountZero) {
  const Bytes b = {
      0x02, 0x00,  // AS_SEQUENCE with no ASNs
  };
  expect_malformed(parse(b, 4, 10), ErrorKind::BadLength, 11);
}

TEST(AsPathMalformed, SegmentOverrunsAttribute) {
  const Bytes b = {
      0x02, 0x03,                          // AS_SEQUENCE, 3 ASNs announced
      0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // only 6 of 12 octets
  };
  expect_malformed(parse(b, 4, 10), ErrorKind::Truncated, 10);
}

TEST(AsPathMalformed, TrailingOctetUnderrun) {
  const Bytes b = {
      0x02, 0x01, 0x00, 0x01,  // AS_SEQUENCE 1 (2-octet)
      0x02,                    // a lone segment type octet
  };
  expect_malformed(parse(b, 2, 0), ErrorKind::Truncated, 4);
}

TEST(AsPathMalformed, AsZeroFourOctet) {
  const Bytes b = {
      0x02, 0x02,              // AS_SEQUENCE, 2 ASNs
      0x00, 0x00, 0xFD, 0xE8,  // 65000
      0x00, 0x00, 0x00, 0x00,  // AS 0 (RFC 7607) at offset 6
  };
  expect_malformed(parse(b, 4, 100), ErrorKind::BadValue, 106);
}

TEST(AsPathMalformed, AsZeroTwoOctetInSet) {
  const Bytes b = {
      0x02, 0x01, 0xFD, 0xE8,  // AS_SEQUENCE 65000
      0x01, 0x02, 0x00, 0x05,  // AS_SET {5,
      0x00, 0x00,              //          0} at offset 8
  };
  expect_malformed(parse(b, 2, 0), ErrorKind::BadValue, 8);
}

TEST(AsPath, UncheckedViewStopsAtTheFirstBadSegment) {
  const Bytes b = {
      0x02, 0x01, 0x00, 0x07,  // AS_SEQUENCE 7
      0x02, 0x05, 0x00, 0x08,  // claims 5 ASNs, has 1
  };
  const AsPathView v = AsPathView::unchecked(b, 2);
  EXPECT_EQ(v.to_owned(), (AsPath{{kSeq, {7}}}));
  EXPECT_EQ(v.path_length(), 1U);
}

TEST(AsPath, UncheckedViewWithEmptySegmentHasNoOrigin) {
  const Bytes b = {
      0x02, 0x01, 0x00, 0x00, 0x00, 0x07,  // AS_SEQUENCE 7
      0x02, 0x00,                          // AS_SEQUENCE with no ASNs (malformed)
  };
  const AsPathView v = AsPathView::unchecked(b, 4);
  EXPECT_EQ(v.origin_as(), 0U);  // used to read the ASN at index 0 - 1, far past the data
  EXPECT_EQ(v.path_length(), 1U);
  EXPECT_EQ(v.to_owned(), (AsPath{{kSeq, {7}}, {kSeq, {}}}));
}

// ---- RFC 6793 4.2.3 -------------------------------------------------------------------------

TEST(MergeAs4Path, ShorterAs4PathReplacesTheTail) {
  const Bytes as_path = {
      0x02, 0x04, 0x00, 0x64, 0x5B, 0xA0, 0x5B, 0xA0, 0x01, 0x2C,  // 100 23456 23456 300
  };
  const Bytes as4_path = {
      0x02, 0x03,  // AS_SEQUENCE, 3 ASNs
      0x00, 0x03, 0x0D, 0x40, 0x00, 0x04, 0x93, 0xE0, 0x00, 0x00, 0x01, 0x2C,  // 200000 300000 300
  };
  const AsPath merged = merge_as4_path(view(as_path, 2), view(as4_path, 4));
  EXPECT_EQ(to_string(merged), "100 200000 300000 300");
}

TEST(MergeAs4Path, EqualLengthAs4PathReplacesEverything) {
  const Bytes as_path = {0x02, 0x02, 0x5B, 0xA0, 0x5B, 0xA0};  // 23456 23456
  const Bytes as4_path = {0x02, 0x02, 0x00, 0x03, 0x0D, 0x40, 0x00, 0x04, 0x93, 0xE0};
  EXPECT_EQ(merge_as4_path(view(as_path, 2), view(as4_path, 4)),
            (AsPath{{kSeq, {200000, 300000}}}));
}

TEST(MergeAs4Path, LongerAs4PathIsIgnored) {
  const Bytes as_path = {0x02, 0x01, 0x5B, 0xA0};  // 23456
  const Bytes as4_path = {
      0x02, 0x02, 0x00, 0x03, 0x0D, 0x40, 0x00, 0x04, 0x93, 0xE0,  // 200000 300000
  };
  EXPECT_EQ(merge_as4_path(view(as_path, 2), view(as4_path, 4)), (AsPath{{kSeq, {23456}}}));
}

TEST(MergeAs4Path, EmptyAs4PathKeepsAsPath) {
  const Bytes as_path = {0x02, 0x02, 0x00, 0x64, 0x00, 0xC8};  // 100 200
  EXPECT_EQ(merge_as4_path(view(as_path, 2), AsPathView{}), (AsPath{{kSeq, {100, 200}}}));
}

TEST(MergeAs4Path, AsSetCountsOne) {
  const Bytes as_path = {
      0x02, 0x01, 0x00, 0x64,              // 100
      0x01, 0x02, 0x5B, 0xA0, 0x00, 0xC8,  // {23456,200}
  };
  const Bytes as4_path = {
      0x01, 0x02, 0x00, 0x03, 0x0D, 0x40, 0x00, 0x00, 0x00, 0xC8,  // {200000,200}
  };
  EXPECT_EQ(merge_as4_path(view(as_path, 2), view(as4_path, 4)),
            (AsPath{{kSeq, {100}}, {kSet, {200000, 200}}}));
  // A set in AS_PATH is kept whole when it is among the leading ASNs.
  const Bytes set_first = {
      0x01, 0x02, 0x00, 0x01, 0x00, 0x02,  // {1,2}
      0x02, 0x01, 0x5B, 0xA0,              // 23456
  };
  const Bytes one = {0x02, 0x01, 0x00, 0x03, 0x0D, 0x40};  // 200000
  EXPECT_EQ(merge_as4_path(view(set_first, 2), view(one, 4)),
            (AsPath{{kSet, {1, 2}}, {kSeq, {200000}}}));
}

TEST(MergeAs4Path, ConfederationSegmentsAreStrippedFromAs4Path) {
  const Bytes as_path = {0x02, 0x02, 0x00, 0x64, 0x5B, 0xA0};  // 100 23456
  const Bytes as4_path = {
      0x03, 0x01, 0x00, 0x00, 0xFD, 0xE9,  // (65001): not allowed in AS4_PATH
      0x02, 0x01, 0x00, 0x03, 0x0D, 0x40,  // 200000
      0x04, 0x01, 0x00, 0x00, 0xFD, 0xEA,  // [65002]
  };
  EXPECT_EQ(merge_as4_path(view(as_path, 2), view(as4_path, 4)),
            (AsPath{{kSeq, {100}}, {kSeq, {200000}}}));
}

TEST(MergeAs4Path, LeadingConfederationSegmentsOfAsPathStay) {
  const Bytes as_path = {
      0x03, 0x02, 0xFD, 0xE9, 0xFD, 0xEA,  // (65001 65002): counts 0
      0x02, 0x02, 0x00, 0x64, 0x5B, 0xA0,  // 100 23456
  };
  const Bytes as4_path = {0x02, 0x01, 0x00, 0x03, 0x0D, 0x40};  // 200000
  EXPECT_EQ(to_string(merge_as4_path(view(as_path, 2), view(as4_path, 4))),
            "(65001 65002) 100 200000");
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
