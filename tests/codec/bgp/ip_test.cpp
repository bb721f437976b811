#include "codec/bgp/ip.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>

namespace bgpscribe::codec::bgp {
namespace {

std::string glibc_ntop6(const std::array<std::uint8_t, 16>& b) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, b.data(), buf, sizeof(buf));
}

TEST(Ip, Ipv6FormatMatchesGlibcOnEdgeCases) {
  for (const char* text :
       {"::", "::1", "1::", "2001:db8::1", "::ffff:1.2.3.4", "::1.2.3.4", "2001:0:0:1:0:0:0:1",
        "1:0:0:2:0:0:3:4", "fe80::1:0:0:1", "2001:db8:0:1:1:1:1:1", "0:0:1::", "::0.0.1.0"}) {
    auto a = IpAddress::parse(text);
    ASSERT_TRUE(a) << text;
    EXPECT_EQ(a->to_string(), glibc_ntop6(a->bytes)) << text;
  }
}

TEST(Ip, ParseRefusesTextWithANul) {
  using namespace std::string_view_literals;
  EXPECT_TRUE(IpAddress::parse("192.0.2.1"sv));
  EXPECT_FALSE(IpAddress::parse("192.0.2.1\0junk"sv));
  EXPECT_FALSE(IpAddress::parse("2001:db8::1\0"sv));
  EXPECT_FALSE(Prefix::parse("192.0.2.0\0/24"sv));
}

TEST(Ip, Ipv6FormatMatchesGlibcOnRandomZeroPatterns) {
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    IpAddress a;
    a.family = Afi::Ipv6;
    for (int w = 0; w < 8; ++w) {
      std::uint16_t v = (rng() % 3 == 0) ? static_cast<std::uint16_t>(rng()) : 0;
      if (rng() % 5 == 0) {
        v = 0xffff;
      }
      a.bytes[2 * w] = static_cast<std::uint8_t>(v >> 8);
      a.bytes[2 * w + 1] = static_cast<std::uint8_t>(v);
    }
    ASSERT_EQ(a.to_string(), glibc_ntop6(a.bytes));
  }
}

TEST(Ip, PrefixParseMasksHostBitsAndFormats) {
  auto p = Prefix::parse("192.0.2.77/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "192.0.2.0/24");
  EXPECT_FALSE(Prefix::parse("192.0.2.0/33"));
  EXPECT_FALSE(Prefix::parse("2001:db8::/129"));
  EXPECT_EQ(Prefix::parse("2001:db8:ffff::/33")->to_string(), "2001:db8:8000::/33");
}

}  // namespace
}  // namespace bgpscribe::codec::bgp
