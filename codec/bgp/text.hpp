// Protocol values as text: the one home of the names every output writes (dump --json, RIS
// Live, bgpdump -m, the SQL archive, the speaker's Update), so that the outputs agree.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "codec/bgp/attributes.hpp"

namespace bgpscribe::codec::bgp {

// "IGP", "EGP", "INCOMPLETE" (RFC 4271 5.1.1; bgpdump's and the SQL archive's form).
const char* origin_name(Origin o);
// "igp", "egp", "incomplete" (RIS Live's form).
const char* origin_name_lower(Origin o);

// Lowercase hex digits of `bytes`, appended, no prefix.
void append_hex(std::string& out, std::span<const std::uint8_t> bytes);

// One 8-byte extended community (RFC 4360 section 4, RFC 5668): the route target and route
// origin of the 2-octet AS, IPv4 address and 4-octet AS types, transitive or not, as
// "rt:65000:100", "ro:192.0.2.1:7", "rt:4200000000:5"; any other as "0x" and 16 hex digits.
void append_extended_community(std::string& out, std::span<const std::uint8_t> community);
std::string extended_community_text(std::span<const std::uint8_t> community);

}  // namespace bgpscribe::codec::bgp
