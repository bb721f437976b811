#include "codec/bgp/message.hpp"

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

TEST(Message, FramesKeepalive) {
  const Bytes b = with_marker({
      0x00, 0x13,  // length 19
      0x04,        // KEEPALIVE
  });
  const Frame f = frame(b);
  ASSERT_EQ(f.status, FrameStatus::Message);
  EXPECT_EQ(f.size, 19U);
  EXPECT_EQ(f.header.type, MessageType::Keepalive);
  EXPECT_EQ(f.header.length, 19);
}

TEST(Message, NeedsMoreUntilHeaderAndBodyArrive) {
  Bytes b = with_marker({
      0x00, 0x17,  // length 23
      0x02,        // UPDATE
      0x00, 0x00,  // withdrawn routes length
      0x00, 0x00,  // total path attribute length
  });
  for (std::size_t n = 0; n < b.size(); ++n) {
    const Frame f = frame(std::span(b).first(n));
    ASSERT_EQ(f.status, FrameStatus::NeedMore) << n;
    EXPECT_EQ(f.size, n < 19 ? 19U : 23U) << n;
  }
  b.push_back(0xAB);  // the start of the next message does not disturb framing
  const Frame f = frame(b);
  ASSERT_EQ(f.status, FrameStatus::Message);
  EXPECT_EQ(f.size, 23U);
}

TEST(Message, BadMarkerIsConnectionNotSynchronizedAsSoonAsVisible) {
  const Bytes b = {0xFF, 0xFF, 0xFE};  // third marker octet is wrong; header incomplete
  const Frame f = frame(b);
  ASSERT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.code, error_code::kMessageHeader);
  EXPECT_EQ(f.error.subcode, header_subcode::kConnectionNotSynchronized);
  EXPECT_EQ(f.error.reaction, Reaction::SessionReset);
  EXPECT_EQ(f.error.offset, 2U);
  EXPECT_TRUE(f.data().empty());
}

TEST(Message, LengthBelow19IsBadMessageLengthWithTheLengthAsData) {
  const Bytes b = with_marker({
      0x00, 0x12,  // length 18: below the header size
      0x04,        // KEEPALIVE
  });
  const Frame f = frame(b);
  ASSERT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.code, error_code::kMessageHeader);
  EXPECT_EQ(f.error.subcode, header_subcode::kBadMessageLength);
  EXPECT_EQ(f.error.reaction, Reaction::SessionReset);
  EXPECT_EQ(f.error.offset, 16U);
  EXPECT_EQ(Bytes(f.data().begin(), f.data().end()), (Bytes{0x00, 0x12}));
}

TEST(Message, LengthAbove4096IsBadWithoutExtendedMessage) {
  const Bytes b = with_marker({
      0x10, 0x01,  // length 4097
      0x02,        // UPDATE
  });
  const Frame f = frame(b);
  ASSERT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.subcode, header_subcode::kBadMessageLength);
  EXPECT_EQ(f.error.offset, 16U);
  EXPECT_EQ(Bytes(f.data().begin(), f.data().end()), (Bytes{0x10, 0x01}));
  // RFC 8654: the same UPDATE is fine once extended messages are negotiated.
  const Frame g = frame(b, kMaxExtendedMessageSize);
  EXPECT_EQ(g.status, FrameStatus::NeedMore);
  EXPECT_EQ(g.size, 4097U);
}

TEST(Message, ExtendedMessageNeverAppliesToOpenOrKeepalive) {
  const Bytes open = with_marker({
      0x10, 0x01,  // length 4097
      0x01,        // OPEN
  });
  const Frame f = frame(open, kMaxExtendedMessageSize);
  ASSERT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.subcode, header_subcode::kBadMessageLength);
  for (std::uint8_t type : {2, 3, 5}) {
    const Bytes b = with_marker({0xFF, 0xFF, type});  // length 65535
    EXPECT_EQ(frame(b, kMaxExtendedMessageSize).status, FrameStatus::NeedMore) << int{type};
  }
}

TEST(Message, UnknownTypeIsBadMessageTypeWithTheTypeAsData) {
  const Bytes b = with_marker({
      0x00, 0x13,  // length 19
      0x06,        // type 6: unassigned
  });
  const Frame f = frame(b);
  ASSERT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.code, error_code::kMessageHeader);
  EXPECT_EQ(f.error.subcode, header_subcode::kBadMessageType);
  EXPECT_EQ(f.error.reaction, Reaction::SessionReset);
  EXPECT_EQ(f.error.offset, 18U);
  EXPECT_EQ(Bytes(f.data().begin(), f.data().end()), (Bytes{0x06}));
}

TEST(Message, PerTypeMinimumLengths) {
  struct Case {
    std::uint8_t type;
    std::uint16_t too_short;
  };
  for (const Case c : {Case{1, 28}, Case{2, 22}, Case{3, 20}, Case{5, 22}, Case{128, 22}}) {
    const Bytes b = with_marker({static_cast<std::uint8_t>(c.too_short >> 8),
                                 static_cast<std::uint8_t>(c.too_short), c.type});
    const Frame f = frame(b);
    ASSERT_EQ(f.status, FrameStatus::Broken) << int{c.type};
    EXPECT_EQ(f.error.subcode, header_subcode::kBadMessageLength) << int{c.type};
    EXPECT_EQ(f.error.offset, 16U);
    EXPECT_EQ(Bytes(f.data().begin(), f.data().end()),
              (Bytes{static_cast<std::uint8_t>(c.too_short >> 8),
                     static_cast<std::uint8_t>(c.too_short)}));
  }
}

TEST(Message, KeepaliveMustBeExactly19) {
  const Bytes b = with_marker({
      0x00, 0x14,  // length 20
      0x04,        // KEEPALIVE
      0x00,        // one stray body octet
  });
  const Frame f = frame(b);
  ASSERT_EQ(f.status, FrameStatus::Broken);
  EXPECT_EQ(f.error.code, error_code::kMessageHeader);
  EXPECT_EQ(f.error.subcode, header_subcode::kBadMessageLength);
  EXPECT_EQ(f.error.offset, 16U);
}

TEST(Message, ParseHeaderUsesReaderOffsets) {
  Bytes b = {0x00, 0x00, 0x00};                     // three octets of something before the message
  const Bytes m = with_marker({0x00, 0x13, 0x09});  // length 19, type 9 (unknown)
  b.insert(b.end(), m.begin(), m.end());
  wire::Reader r(b, 100);
  ASSERT_TRUE(r.skip(3));
  auto h = parse_header(r);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().subcode, header_subcode::kBadMessageType);
  EXPECT_EQ(h.error().offset, 100U + 3U + 18U);
}

TEST(Message, SplitMessageRejectsLengthThatDisagreesWithSpan) {
  const Bytes b = with_marker({
      0x00, 0x13,  // length 19
      0x04,        // KEEPALIVE
      0x00,        // one octet more than the length says
  });
  auto v = split_message(b);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, error_code::kMessageHeader);
  EXPECT_EQ(v.error().subcode, header_subcode::kBadMessageLength);
  EXPECT_EQ(v.error().offset, 16U);
}

TEST(Message, BeginFinishRoundTrip) {
  wire::Writer w;
  w.u8(0x77);  // unrelated bytes already in the writer
  const std::size_t start = begin_message(w, MessageType::Update);
  w.u16(0);
  w.u16(0);
  ASSERT_TRUE(finish_message(w, start, MessageType::Update));
  const auto all = w.bytes();
  auto v = split_message(all.subspan(1));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->header, (MessageHeader{23, MessageType::Update}));
  EXPECT_EQ(v->body.size(), 4U);
}

TEST(Message, FinishRefusesOversizedMessages) {
  wire::Writer w;
  const std::size_t start = begin_message(w, MessageType::Update);
  w.fill(4096 - 19 + 1, 0);
  auto s = finish_message(w, start, MessageType::Update);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::TooLarge);
  EXPECT_TRUE(finish_message(w, start, MessageType::Update, kMaxExtendedMessageSize));
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
