// Test support: BGP messages and their parts as bytes, built by hand for tests that need exact
// or broken input (the codec's encoders build the well-formed ones), and the small parsers
// tests use to write values as text.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/nlri.hpp"

namespace bgpscribe::tests {

using ByteVector = std::vector<std::uint8_t>;

// "ff00a1" -> {0xff, 0x00, 0xa1}; a trailing odd digit is ignored.
ByteVector from_hex(const std::string& hex);

// The 16-octet marker followed by `rest` (length, type, body as the test writes them).
ByteVector with_marker(std::initializer_list<std::uint8_t> rest);

// A whole BGP message (RFC 4271 section 4.1): marker, length, `type`, `body`.
ByteVector bgp_message(std::uint8_t type, const ByteVector& body);
// KEEPALIVE: the 19-octet header alone.
ByteVector keepalive_message();
// An UPDATE (RFC 4271 section 4.3) of the three fields as given, each length field computed.
ByteVector update_message(const ByteVector& withdrawn, const ByteVector& attributes,
                          const ByteVector& nlri);

// TABLE_DUMP_V2 attributes: ORIGIN, 4-octet AS_PATH [as], and NEXT_HOP 192.0.2.254 (IPv4) or
// abbreviated MP_REACH_NLRI 2001:db8::1 (IPv6, RFC 6396 section 4.3.4); `padding` > 0 adds an
// optional transitive attribute of unknown type 250 with that many octets.
ByteVector rib_attributes(std::uint32_t as, bool ipv6, std::size_t padding = 0);

// Parsed from text, which the test expects to be valid (a failure is a test failure).
codec::bgp::Prefix prefix(std::string_view text);
codec::bgp::IpAddress address(std::string_view text);

// The prefixes of an NLRI block as text ("10.0.0.0/8"), in order.
std::vector<std::string> prefix_texts(const codec::bgp::NlriBlock& block);

}  // namespace bgpscribe::tests
