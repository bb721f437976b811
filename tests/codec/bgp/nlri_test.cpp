#include "codec/bgp/nlri.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/notification_codes.hpp"
#include "tests/support/bgp_bytes.hpp"

namespace bgpscribe::codec::bgp {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr auto* pfx = &tests::prefix;
constexpr auto* texts = &tests::prefix_texts;

Result<NlriBlock> parse(const Bytes& b, AfiSafi family, bool add_path, std::uint32_t base = 0) {
  wire::Reader r(b, base);
  return NlriBlock::parse(r, family, add_path);
}

// encode_nlri of every prefix, then parse: the values come back; re-encoding the parsed
// entries gives the same bytes.
void round_trip(AfiSafi family, bool add_path, const std::vector<Prefix>& prefixes) {
  wire::Writer w;
  std::uint32_t id = 7;
  for (const auto& p : prefixes) {
    encode_nlri(w, p, id++, add_path);
  }
  const Bytes bytes = w.buffer();
  auto block = parse(bytes, family, add_path, 40);
  ASSERT_TRUE(block) << block.error().message;
  EXPECT_EQ(block->count(), prefixes.size());
  EXPECT_EQ(block->family(), family);
  EXPECT_EQ(block->add_path(), add_path);
  EXPECT_EQ(block->offset(), 40U);
  std::size_t i = 0;
  wire::Writer again;
  for (const auto& n : *block) {
    ASSERT_LT(i, prefixes.size());
    EXPECT_EQ(n.prefix(), prefixes[i]) << i;
    EXPECT_EQ(n.afi, family.afi);
    EXPECT_EQ(n.path_id, add_path ? 7 + i : 0U);
    encode_nlri(again, n.raw_prefix(), n.path_id, add_path);
    ++i;
  }
  EXPECT_EQ(i, prefixes.size());
  EXPECT_EQ(again.buffer(), bytes);
}

TEST(Nlri, Ipv4UnicastEntriesDecode) {
  const Bytes b = {
      0x00,                          // /0, no octets: the default route
      0x08, 0x0A,                    // 10.0.0.0/8
      0x18, 0xC0, 0x00, 0x02,        // 192.0.2.0/24
      0x20, 0xC6, 0x33, 0x64, 0x01,  // 198.51.100.1/32
  };
  auto block = parse(b, kIpv4Unicast, false);
  ASSERT_TRUE(block);
  EXPECT_TRUE(block->decoded());
  EXPECT_EQ(block->count(), 4U);
  EXPECT_EQ(texts(*block), (std::vector<std::string>{"0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/24",
                                                     "198.51.100.1/32"}));
  EXPECT_EQ(block->bytes().size(), b.size());
}

TEST(Nlri, HostBitsAreKeptRawAndMaskedInPrefix) {
  const Bytes b = {
      0x17, 0xC0, 0x00, 0x03,  // /23 with the last bit of the third octet set
  };
  auto block = parse(b, kIpv4Unicast, false);
  ASSERT_TRUE(block);
  const Nlri n = *block->begin();
  EXPECT_TRUE(n.host_bits_set());
  EXPECT_EQ(n.raw_prefix().to_string(), "192.0.3.0/23");
  EXPECT_EQ(n.prefix().to_string(), "192.0.2.0/23");
}

TEST(Nlri, AddPathIpv4CarriesPathIds) {
  const Bytes b = {
      0x00, 0x00, 0x00, 0x01,  // path id 1
      0x18, 0xC0, 0x00, 0x02,  // 192.0.2.0/24
      0xFF, 0xFF, 0xFF, 0xFF,  // path id 4294967295
      0x00,                    // /0
  };
  auto block = parse(b, kIpv4Unicast, true);
  ASSERT_TRUE(block);
  ASSERT_EQ(block->count(), 2U);
  auto it = block->begin();
  EXPECT_EQ(it->path_id, 1U);
  EXPECT_EQ(it->prefix().to_string(), "192.0.2.0/24");
  ++it;
  EXPECT_EQ(it->path_id, 0xFFFFFFFFU);
  EXPECT_EQ(it->length, 0);
  ++it;
  EXPECT_TRUE(it == block->end());
}

TEST(Nlri, Ipv6EntriesDecode) {
  const Bytes b = {
      0x00,                                                                       // ::/0
      0x30, 0x20, 0x01, 0x0D, 0xB8, 0x00, 0x01,                                   // 2001:db8:1::/48
      0x80, 0x20, 0x01, 0x0D, 0xB8, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // 2001:db8::1/128
  };
  auto block = parse(b, kIpv6Unicast, false);
  ASSERT_TRUE(block);
  EXPECT_EQ(texts(*block),
            (std::vector<std::string>{"::/0", "2001:db8:1::/48", "2001:db8::1/128"}));
}

TEST(Nlri, RoundTripsEveryPlainFamilyWithAndWithoutAddPath) {
  const std::vector<Prefix> v4 = {pfx("0.0.0.0/0"),      pfx("10.0.0.0/8"),
                                  pfx("172.16.0.0/12"),  pfx("192.0.2.0/24"),
                                  pfx("192.0.2.128/25"), pfx("203.0.113.7/32")};
  const std::vector<Prefix> v6 = {pfx("::/0"),
                                  pfx("2001:db8::/32"),
                                  pfx("2001:db8:1::/48"),
                                  pfx("2001:db8:1:2::/64"),
                                  pfx("2001:db8::1/128"),
                                  pfx("fe80::/10")};
  for (bool add_path : {false, true}) {
    SCOPED_TRACE(add_path ? "add-path" : "plain");
    round_trip(kIpv4Unicast, add_path, v4);
    round_trip(kIpv4Multicast, add_path, v4);
    round_trip(kIpv6Unicast, add_path, v6);
    round_trip(kIpv6Multicast, add_path, v6);
  }
}

TEST(Nlri, EmptyBlockIsValid) {
  auto block = parse({}, kIpv4Unicast, true);
  ASSERT_TRUE(block);
  EXPECT_TRUE(block->empty());
  EXPECT_EQ(block->count(), 0U);
  EXPECT_TRUE(block->begin() == block->end());
}

TEST(Nlri, OtherFamiliesStayRaw) {
  const Bytes b = {
      0x70,                             // 112 bits: label(24) + RD(64) + /24
      0x00, 0x01, 0x01,                 // label
      0,    0,    0,    0, 0, 0, 0, 0,  // RD
      0xC0, 0x00, 0x02,                 // 192.0.2/24
  };
  auto block = parse(b, AfiSafi{Afi::Ipv4, Safi::MplsVpn}, false);
  ASSERT_TRUE(block);
  EXPECT_FALSE(block->decoded());
  EXPECT_EQ(block->count(), 0U);
  EXPECT_TRUE(block->begin() == block->end());
  EXPECT_EQ(block->bytes().size(), b.size());
  // Even a length a plain family would reject is opaque here.
  const Bytes odd = {0xFF};
  EXPECT_TRUE(parse(odd, AfiSafi{Afi::Ipv4, Safi::FlowSpec}, false));
}

void expect_network_error(const Result<NlriBlock>& r, ErrorKind kind, std::uint32_t offset) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, kind);
  EXPECT_EQ(r.error().code, error_code::kUpdateMessage);
  EXPECT_EQ(r.error().subcode, update_subcode::kInvalidNetworkField);
  EXPECT_EQ(r.error().reaction, Reaction::SessionReset);
  EXPECT_EQ(r.error().offset, offset);
}

TEST(NlriMalformed, Ipv4PrefixLengthAbove32) {
  const Bytes b = {
      0x18, 0xC0, 0x00, 0x02,        // 192.0.2.0/24 (fine)
      0x21, 0x01, 0x02, 0x03, 0x04,  // length 33 at offset 4
  };
  expect_network_error(parse(b, kIpv4Unicast, false, 100), ErrorKind::BadValue, 104);
  expect_network_error(parse(b, kIpv4Multicast, false, 100), ErrorKind::BadValue, 104);
}

TEST(NlriMalformed, Ipv6PrefixLengthAbove128) {
  const Bytes b = {
      0x81,  // length 129
      0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  };
  expect_network_error(parse(b, kIpv6Unicast, false, 7), ErrorKind::BadValue, 7);
  // 33..128 are fine for IPv6.
  const Bytes ok = {0x21, 0x20, 0x01, 0x0D, 0xB8, 0x80};  // 2001:db8:8000::/33
  EXPECT_TRUE(parse(ok, kIpv6Unicast, false));
}

TEST(NlriMalformed, PrefixOverrunsBlock) {
  const Bytes b = {
      0x08, 0x0A,        // 10.0.0.0/8
      0x18, 0xC0, 0x00,  // /24 with only two of its three octets
  };
  expect_network_error(parse(b, kIpv4Unicast, false, 19), ErrorKind::Truncated, 21);
}

TEST(NlriMalformed, AddPathTruncatedInPathId) {
  const Bytes b = {
      0x00, 0x00, 0x00, 0x01, 0x08, 0x0A,  // id 1, 10.0.0.0/8
      0x00, 0x00, 0x00,                    // three octets of the next path id
  };
  expect_network_error(parse(b, kIpv4Unicast, true, 50), ErrorKind::Truncated, 56);
}

TEST(NlriMalformed, AddPathIdWithoutPrefixLength) {
  const Bytes b = {
      0x00, 0x00, 0x00, 0x02,  // path id 2, then nothing
  };
  expect_network_error(parse(b, kIpv6Unicast, true, 0), ErrorKind::Truncated, 0);
}

TEST(NlriMalformed, AddPathPrefixOverrunIsReportedAtTheEntry) {
  const Bytes b = {
      0x00, 0x00, 0x00, 0x02,  // path id 2
      0x20, 0x0A, 0x00,        // /32 with two octets
  };
  expect_network_error(parse(b, kIpv4Unicast, true, 0), ErrorKind::Truncated, 0);
}

TEST(NlriMalformed, WithoutAddPathThePathIdIsAPrefix) {
  // ADD-PATH data read without path ids: 00 00 00 are three /0, 01 is a /1 that takes the
  // 0x18, and then 0xC0 (192) is a prefix length above 32.
  const Bytes b = {
      0x00, 0x00, 0x00, 0x01,  // path id 1 (read as /0 /0 /0 /1)
      0x18, 0xC0, 0x00, 0x02,  // 192.0.2.0/24 (0x18 is the /1's octet, 0xC0 a length)
  };
  expect_network_error(parse(b, kIpv4Unicast, false), ErrorKind::BadValue, 5);
  auto with_ids = parse(b, kIpv4Unicast, true);
  ASSERT_TRUE(with_ids);
  EXPECT_EQ(texts(*with_ids), (std::vector<std::string>{"192.0.2.0/24"}));
}

TEST(Nlri, LenientParseKeepsTheWholeLeadingEntries) {
  const Bytes b = {
      0x08, 0x0A,        // 10.0.0.0/8
      0x10, 0xAC, 0x10,  // 172.16.0.0/16
      0x40, 0x01,        // length 64: invalid for IPv4
  };
  wire::Reader r(b);
  bool complete = true;
  const NlriBlock block = NlriBlock::parse_lenient(r, kIpv4Unicast, false, &complete);
  EXPECT_FALSE(complete);
  EXPECT_EQ(block.count(), 2U);
  EXPECT_EQ(texts(block), (std::vector<std::string>{"10.0.0.0/8", "172.16.0.0/16"}));
  EXPECT_TRUE(r.empty());
  wire::Reader whole(std::span<const std::uint8_t>(b).first(5));
  const NlriBlock ok = NlriBlock::parse_lenient(whole, kIpv4Unicast, false, &complete);
  EXPECT_TRUE(complete);
  EXPECT_EQ(ok.count(), 2U);
}

TEST(Nlri, MaxPrefixLength) {
  EXPECT_EQ(max_prefix_length(Afi::Ipv4), 32);
  EXPECT_EQ(max_prefix_length(Afi::Ipv6), 128);
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
