// Protocol values as text: the one spelling of every value that bgpscribe prints, whatever the
// output (dump --json and RIS Live, bgpdump -m, the SQL archive, the speaker's log lines, the
// examples). docs/text.md lists each kind, its spelling and the outputs that use it; a value
// written anywhere else is written through a function here. This module spells values only:
// the quoting, separators and columns of an output are its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/capability.hpp"
#include "codec/bgp/capability_codes.hpp"
#include "codec/bgp/message_types.hpp"

namespace bgpscribe::codec::bgp {

// ---- Registry names: one switch each; nullptr when the registry has no name for the code ----

const char* to_string(Afi afi);              // "ipv4", "ipv6", "l2vpn", "bgp-ls"
const char* to_string(Safi safi);            // "unicast", "multicast", "mpls-vpn", ...
const char* to_string(MessageType type);     // "OPEN", "UPDATE", ...
const char* to_string(CapabilityCode code);  // "multiprotocol", "4-octet-as", ...
const char* to_string(AttributeType type);   // "ORIGIN", "AS_PATH", ...
// NOTIFICATION error codes and subcodes (RFC 4271 4.5 and the IANA registry):
// "Cease", "Administrative Shutdown", ...
const char* error_code_name(std::uint8_t code);
const char* error_subcode_name(std::uint8_t code, std::uint8_t subcode);
// "IGP", "EGP", "INCOMPLETE" (RFC 4271 5.1.1).
const char* origin_name(Origin o);

// ---- Values as text: never empty; a code without a name is its decimal number ----------------

// "ipv4/unicast", "ipv6/mpls-vpn"; an unnamed AFI or SAFI as its number ("ipv4/3", "99/1").
std::string family_text(AfiSafi f);

// `s` as a JSON string with its quotes (RFC 8259): quote, backslash and control characters
// escaped, well-formed UTF-8 kept, each stray octet U+FFFD (text from the wire need not be
// UTF-8). The one JSON string writer of dump, the API clients, status.json and the log.
void append_json_string(std::string& out, std::string_view s);

// The name of a capability code, or its number ("99").
std::string capability_name(CapabilityCode code);
// A capability with what it carries: the name, then its values separated by spaces:
// "multiprotocol ipv6/unicast", "4-octet-as 4200000000", "add-path ipv4/unicast receive",
// "graceful-restart 120s ipv4/unicast", "role 3", "fqdn host.example"; others the name alone.
std::string capability_text(const Capability& c);

// A NOTIFICATION's code and subcode: "Cease / Administrative Shutdown". A code or subcode
// without a name is "code 9" or "subcode 12"; subcode 0 without a name is left out
// ("Hold Timer Expired").
std::string notification_text(std::uint8_t code, std::uint8_t subcode);

// RFC 1997 community: "65000:1", both halves in decimal (well-known ones too: "65535:65281").
inline constexpr std::size_t kCommunityTextMax = 11;
std::size_t format_community(std::uint32_t community, char* out);  // at most kCommunityTextMax
void append_community(std::string& out, std::uint32_t community);
std::string community_text(std::uint32_t community);

// RFC 8092 large community from its 12 octets: "4200000000:1:2" (global administrator, local
// data 1, local data 2, in decimal).
inline constexpr std::size_t kLargeCommunityTextMax = 32;
std::size_t format_large_community(std::span<const std::uint8_t> octets, char* out);
void append_large_community(std::string& out, std::span<const std::uint8_t> octets);
std::string large_community_text(std::span<const std::uint8_t> octets);
std::string large_community_text(const std::array<std::uint32_t, 3>& community);

// Extended community from its 8 octets (RFC 4360 section 4, RFC 5668): the route target and
// route origin of the 2-octet AS, IPv4 address and 4-octet AS types, transitive or not, as
// "rt:65000:100", "ro:192.0.2.1:7", "rt:4200000000:5"; any other as "0x" and 16 hex digits.
void append_extended_community(std::string& out, std::span<const std::uint8_t> community);
std::string extended_community_text(std::span<const std::uint8_t> community);
std::string extended_community_text(std::uint64_t community);  // the 8 octets, big-endian

// AS path (RFC 4271 4.3, RFC 5065): "1 2 {3,4} (5 6) [7,8]": segments separated by a space,
// AS_SEQUENCE members by spaces, AS_SET in braces with commas, AS_CONFED_SEQUENCE in
// parentheses, AS_CONFED_SET in brackets with commas. Use effective_as_path (attributes.hpp) for
// the path of a 2-octet session (RFC 6793 4.2.3).
std::string to_string(const AsPath& path);
// The marks of one segment type in that text ('\0' for none).
struct AsSegmentMarks {
  char open;
  char close;
  char separator;
};
AsSegmentMarks as_segment_marks(AsSegmentType type);

// Lowercase hex digits of `bytes`, no prefix; format_hex writes 2 * bytes.size() characters.
std::size_t format_hex(std::span<const std::uint8_t> bytes, char* out);
void append_hex(std::string& out, std::span<const std::uint8_t> bytes);

}  // namespace bgpscribe::codec::bgp
