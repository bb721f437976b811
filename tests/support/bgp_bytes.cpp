#include "tests/support/bgp_bytes.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace bgpscribe::tests {

namespace {

void put_u16(ByteVector& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

void put_u32(ByteVector& b, std::uint32_t v) {
  put_u16(b, v >> 16);
  put_u16(b, v & 0xFFFFU);
}

}  // namespace

ByteVector from_hex(const std::string& hex) {
  ByteVector b;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    b.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return b;
}

ByteVector with_marker(std::initializer_list<std::uint8_t> rest) {
  // Sized first: g++ 12 at -O2 warns (wrongly) about inserting after a fill constructor.
  ByteVector b(16 + rest.size(), 0xFF);
  std::copy(rest.begin(), rest.end(), b.begin() + 16);
  return b;
}

ByteVector bgp_message(std::uint8_t type, const ByteVector& body) {
  ByteVector m(16, 0xFF);
  put_u16(m, 19 + body.size());
  m.push_back(type);
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

ByteVector keepalive_message() {
  return bgp_message(4, {});
}

ByteVector update_message(const ByteVector& withdrawn, const ByteVector& attributes,
                          const ByteVector& nlri) {
  ByteVector body;
  put_u16(body, withdrawn.size());
  body.insert(body.end(), withdrawn.begin(), withdrawn.end());
  put_u16(body, attributes.size());
  body.insert(body.end(), attributes.begin(), attributes.end());
  body.insert(body.end(), nlri.begin(), nlri.end());
  return bgp_message(2, body);
}

codec::bgp::Prefix prefix(std::string_view text) {
  auto p = codec::bgp::Prefix::parse(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(codec::bgp::Prefix{});
}

codec::bgp::IpAddress address(std::string_view text) {
  auto a = codec::bgp::IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(codec::bgp::IpAddress{});
}

std::vector<std::string> prefix_texts(const codec::bgp::NlriBlock& block) {
  std::vector<std::string> out;
  for (const auto& n : block) {
    out.push_back(n.raw_prefix().to_string());
  }
  return out;
}

ByteVector rib_attributes(std::uint32_t as, bool ipv6, std::size_t padding) {
  ByteVector a = {0x40, 1, 1, 0, 0x40, 2, 6, 2, 1};
  put_u32(a, as);
  if (ipv6) {
    a.insert(a.end(),
             {0x80, 14, 17, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  } else {
    a.insert(a.end(), {0x40, 3, 4, 192, 0, 2, 254});
  }
  if (padding > 0) {
    a.insert(a.end(), {0xD0, 250});
    put_u16(a, padding);
    a.insert(a.end(), padding, 0x55);
  }
  return a;
}

}  // namespace bgpscribe::tests
