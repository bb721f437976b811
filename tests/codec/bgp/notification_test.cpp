#include "codec/bgp/notification.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "codec/bgp/notification_codes.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::bgp {
namespace {

using Bytes = std::vector<std::uint8_t>;

using tests::from_hex;
using tests::with_marker;

Bytes encode(const Notification& n, std::size_t max_size = kMaxMessageSize) {
  wire::Writer w;
  EXPECT_TRUE(encode_notification(n, w, max_size));
  return w.take();
}

TEST(Notification, RoundTrip) {
  const Notification n{
      error_code::kUpdateMessage, update_subcode::kAttributeFlagsError, {0x40, 0x01, 0x01, 0x00}};
  const Bytes b = with_marker({
      0x00, 0x19,              // length 25
      0x03,                    // NOTIFICATION
      0x03,                    // code 3, UPDATE Message Error
      0x04,                    // subcode 4, Attribute Flags Error
      0x40, 0x01, 0x01, 0x00,  // data: the offending ORIGIN attribute
  });
  EXPECT_EQ(encode(n), b);
  auto p = parse_notification(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, n);
}

// Real NOTIFICATIONs from /work/shared/data/bgp-pcap.
TEST(Notification, RealNotificationsRoundTrip) {
  for (const char* hex : {
           "ffffffffffffffffffffffffffffffff00170306090603",  // bgp-cease-hard-reset: 6/9 (6/3)
           "ffffffffffffffffffffffffffffffff001503060a",      // bgp-bfd-cease: 6/10
           "ffffffffffffffffffffffffffffffff0017030701feb0",  // bgp_notification_rr_msg_error 7/1
           "ffffffffffffffffffffffffffffffff0017030202feb0",  // PacketLife: 2/2 Bad Peer AS
       }) {
    const Bytes b = from_hex(hex);
    auto n = parse_notification(b);
    ASSERT_TRUE(n) << hex;
    EXPECT_EQ(encode(*n), b) << hex;
  }
}

TEST(Notification, RealShutdownCommunication) {
  // bgp-shutdown-communication.pcapng: 6/2 with a 52-octet text.
  const Bytes b = from_hex(
      "ffffffffffffffffffffffffffffffff004a030602345468697320697320612074657374206f66207468652073"
      "687574646f776e20636f6d6d756e69636174696f6e2073797374656d2e");
  auto n = parse_notification(b);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, error_code::kCease);
  EXPECT_EQ(n->subcode, cease_subcode::kAdministrativeShutdown);
  auto text = shutdown_communication(*n);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "This is a test of the shutdown communication system.");
  EXPECT_EQ(shutdown_communication_data(*text), n->data);
  EXPECT_EQ(encode(*n), b);
}

TEST(Notification, ShutdownCommunicationOverrunIsIgnoredNotFatal) {
  const Bytes b = with_marker({
      0x00, 0x18,  // length 24
      0x03,        // NOTIFICATION
      0x06,        // Cease
      0x04,        // Administrative Reset
      0x0A,        // text length 10, but only 2 octets follow
      'h', 'i',    // text
  });
  auto n = parse_notification(b);
  ASSERT_TRUE(n);  // RFC 9003: keep the NOTIFICATION
  EXPECT_EQ(n->subcode, cease_subcode::kAdministrativeReset);
  EXPECT_FALSE(shutdown_communication(*n));
  EXPECT_EQ(encode(*n), b);
}

TEST(Notification, ShutdownCommunicationOnlyFor6_2And6_4) {
  Notification n{error_code::kCease, cease_subcode::kPeerDeconfigured, {0x02, 'h', 'i'}};
  EXPECT_FALSE(shutdown_communication(n));
  n.subcode = cease_subcode::kAdministrativeShutdown;
  EXPECT_EQ(shutdown_communication(n), "hi");
  n.data = {0x00};  // length 0: no message
  EXPECT_FALSE(shutdown_communication(n));
  n.data.clear();
  EXPECT_FALSE(shutdown_communication(n));
}

TEST(Notification, ShutdownCommunicationIsCutAt255OnACharacterBoundary) {
  std::string text(254, 'a');
  text += "\xC3\xA9";  // U+00E9 straddles octets 255 and 256
  const Bytes data = shutdown_communication_data(text);
  ASSERT_EQ(data[0], 254);
  EXPECT_EQ(data.size(), 255U);
  const Bytes long_ascii = shutdown_communication_data(std::string(300, 'x'));
  EXPECT_EQ(long_ascii[0], 255);
  EXPECT_EQ(long_ascii.size(), 256U);
}

TEST(Notification, HardReset) {
  // bgp-cease-hard-reset.pcap: 6/9 wrapping 6/3.
  auto n = parse_notification(from_hex("ffffffffffffffffffffffffffffffff00170306090603"));
  ASSERT_TRUE(n);
  auto inner = hard_reset_inner(*n);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->code, error_code::kCease);
  EXPECT_EQ(inner->subcode, cease_subcode::kPeerDeconfigured);
  EXPECT_TRUE(inner->data.empty());
  EXPECT_EQ(make_hard_reset(*inner), *n);

  const Notification with_text{error_code::kCease, cease_subcode::kAdministrativeShutdown,
                               shutdown_communication_data("bye")};
  const Notification wrapped = make_hard_reset(with_text);
  EXPECT_EQ(hard_reset_inner(wrapped), with_text);
  EXPECT_FALSE(hard_reset_inner(with_text));
  EXPECT_FALSE(hard_reset_inner(Notification{6, 9, {0x06}}));  // inner subcode missing
}

TEST(Notification, DataHelpers) {
  const auto len = bad_message_length_data(4097);
  EXPECT_EQ(Bytes(len.begin(), len.end()), (Bytes{0x10, 0x01}));
  const auto type = bad_message_type_data(9);
  EXPECT_EQ(Bytes(type.begin(), type.end()), (Bytes{0x09}));
  const auto version = unsupported_version_data();
  EXPECT_EQ(Bytes(version.begin(), version.end()), (Bytes{0x00, 0x04}));
  const auto mp = max_prefixes_data(kIpv6Unicast, 100000);
  EXPECT_EQ(Bytes(mp.begin(), mp.end()), (Bytes{0x00, 0x02, 0x01, 0x00, 0x01, 0x86, 0xA0}));
  const Notification n{error_code::kCease, cease_subcode::kMaxPrefixesReached,
                       Bytes(mp.begin(), mp.end())};
  EXPECT_EQ(max_prefixes(n), (MaxPrefixes{kIpv6Unicast, 100000}));
  EXPECT_FALSE(max_prefixes(Notification{6, 1, {}}));
}

TEST(Notification, TooShortIsBadMessageLength) {
  const Bytes b = with_marker({
      0x00, 0x14,  // length 20: no room for the subcode
      0x03,        // NOTIFICATION
      0x06,        // code
  });
  auto n = parse_notification(b);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, error_code::kMessageHeader);
  EXPECT_EQ(n.error().subcode, header_subcode::kBadMessageLength);
  EXPECT_EQ(n.error().reaction, Reaction::SessionReset);
  EXPECT_EQ(n.error().offset, 16U);
}

TEST(Notification, LongDataNeedsExtendedMessages) {
  const Notification n{error_code::kUpdateMessage, 1, Bytes(5000, 0)};
  wire::Writer w;
  auto s = encode_notification(n, w);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::TooLarge);
  const Bytes b = encode(n, kMaxExtendedMessageSize);
  auto p = parse_notification(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, n);
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
