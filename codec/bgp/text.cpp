#include "codec/bgp/text.hpp"

#include "codec/wire/reader.hpp"

namespace bgpscribe::codec::bgp {

const char* origin_name(Origin o) {
  switch (o) {
    case Origin::Igp:
      return "IGP";
    case Origin::Egp:
      return "EGP";
    case Origin::Incomplete:
      return "INCOMPLETE";
  }
  return "INCOMPLETE";
}

const char* origin_name_lower(Origin o) {
  switch (o) {
    case Origin::Igp:
      return "igp";
    case Origin::Egp:
      return "egp";
    case Origin::Incomplete:
      return "incomplete";
  }
  return "incomplete";
}

void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const auto b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0F]);
  }
}

void append_extended_community(std::string& out, std::span<const std::uint8_t> c) {
  if (c.size() != 8) {
    out += "0x";
    append_hex(out, c);
    return;
  }
  const std::uint8_t type = c[0];
  const std::uint8_t sub = c[1];
  // Bit 0x40 is "non-transitive" (RFC 4360 2); 0x80 is the IANA authority bit: other types.
  const std::uint8_t base = type & static_cast<std::uint8_t>(~0x40U);
  const char* kind = sub == 0x02 ? "rt" : sub == 0x03 ? "ro" : nullptr;
  if (kind == nullptr || base > 0x02) {
    out += "0x";
    append_hex(out, c);
    return;
  }
  out += kind;
  out.push_back(':');
  if (base == 0x00) {  // 2-octet AS : 4-octet number
    out += std::to_string(wire::load_u16(c, 2));
    out.push_back(':');
    out += std::to_string(wire::load_u32(c, 4));
  } else if (base == 0x01) {  // IPv4 address : 2-octet number
    out += std::to_string(c[2]) + "." + std::to_string(c[3]) + "." + std::to_string(c[4]) + "." +
           std::to_string(c[5]);
    out.push_back(':');
    out += std::to_string(wire::load_u16(c, 6));
  } else {  // 4-octet AS : 2-octet number (RFC 5668)
    out += std::to_string(wire::load_u32(c, 2));
    out.push_back(':');
    out += std::to_string(wire::load_u16(c, 6));
  }
}

std::string extended_community_text(std::span<const std::uint8_t> community) {
  std::string out;
  append_extended_community(out, community);
  return out;
}

}  // namespace bgpscribe::codec::bgp
