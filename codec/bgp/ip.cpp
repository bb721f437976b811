#include "codec/bgp/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace bgpscribe::codec::bgp {

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.family = Afi::Ipv4;
  a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v4(std::span<const std::uint8_t, 4> b) {
  IpAddress a;
  a.family = Afi::Ipv4;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

IpAddress IpAddress::v6(std::span<const std::uint8_t, 16> b) {
  IpAddress a;
  a.family = Afi::Ipv6;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[64];
  // inet_pton reads up to a NUL: "192.0.2.1\0junk" would pass as 192.0.2.1.
  if (text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') != std::string_view::npos) {
    a.family = Afi::Ipv6;
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) {
      return std::nullopt;
    }
  } else {
    a.family = Afi::Ipv4;
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) {
      return std::nullopt;
    }
  }
  return a;
}

std::uint32_t IpAddress::v4_host_order() const {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

namespace {

// "00".."99": two digits per division, the usual trick for fast integer text.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

int digit_count(std::uint64_t v) {
  int n = 1;
  while (v >= 10000) {
    v /= 10000;
    n += 4;
  }
  if (v >= 1000) {
    return n + 3;
  }
  if (v >= 100) {
    return n + 2;
  }
  return v >= 10 ? n + 1 : n;
}

struct OctetText {
  char text[3];
  std::uint8_t length;
};

constexpr std::array<OctetText, 256> make_octets() {
  std::array<OctetText, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    if (i >= 100) {
      t[i] = {{static_cast<char>('0' + i / 100), static_cast<char>('0' + i / 10 % 10),
               static_cast<char>('0' + i % 10)},
              3};
    } else if (i >= 10) {
      t[i] = {{static_cast<char>('0' + i / 10), static_cast<char>('0' + i % 10), 0}, 2};
    } else {
      t[i] = {{static_cast<char>('0' + i), 0, 0}, 1};
    }
  }
  return t;
}

constexpr std::array<OctetText, 256> kOctets = make_octets();

}  // namespace

std::size_t format_u64(std::uint64_t v, std::span<char> out) {
  const auto n = static_cast<std::size_t>(digit_count(v));
  std::size_t p = n;  // written backwards, from the last digit
  while (v >= 100) {
    const auto pair = static_cast<std::size_t>(v % 100) * 2;
    v /= 100;
    out[--p] = kDigitPairs[pair + 1];
    out[--p] = kDigitPairs[pair];
  }
  if (v >= 10) {
    const auto pair = static_cast<std::size_t>(v) * 2;
    out[--p] = kDigitPairs[pair + 1];
    out[--p] = kDigitPairs[pair];
  } else {
    out[--p] = static_cast<char>('0' + v);
  }
  return n;
}

std::size_t format_ipv4(std::uint32_t host_order, std::span<char> out) {
  std::size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const OctetText& o = kOctets[(host_order >> shift) & 0xFF];
    out[n] = o.text[0];
    out[n + 1] = o.text[1];
    out[n + 2] = o.text[2];
    n += o.length;
    out[n++] = '.';
  }
  return n - 1;
}

namespace {

std::size_t format_hex16(std::uint16_t v, std::span<char> out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::size_t n = 0;
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    auto d = static_cast<unsigned>((v >> shift) & 0xF);
    if (d != 0 || started || shift == 0) {
      out[n++] = kDigits[d];
      started = true;
    }
  }
  return n;
}

}  // namespace

// Mirrors glibc inet_ntop6: compress the longest (first on ties) run of >= 2 zero words; print
// an embedded IPv4 tail for ::a.b.c.d and ::ffff:a.b.c.d.
std::size_t format_ipv6(std::span<const std::uint8_t, 16> b, std::span<char> out) {
  std::uint16_t words[8];
  for (std::size_t i = 0; i < 8; ++i) {
    words[i] = static_cast<std::uint16_t>((b[2 * i] << 8) | b[2 * i + 1]);
  }
  int best_base = -1;
  int best_len = 0;
  int cur_base = -1;
  int cur_len = 0;
  for (int i = 0; i < 8; ++i) {
    if (words[i] == 0) {
      if (cur_base == -1) {
        cur_base = i;
        cur_len = 1;
      } else {
        ++cur_len;
      }
    } else if (cur_base != -1) {
      if (best_base == -1 || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
      }
      cur_base = -1;
    }
  }
  if (cur_base != -1 && (best_base == -1 || cur_len > best_len)) {
    best_base = cur_base;
    best_len = cur_len;
  }
  if (best_base != -1 && best_len < 2) {
    best_base = -1;
  }
  std::size_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (best_base != -1 && i >= best_base && i < best_base + best_len) {
      if (i == best_base) {
        out[n++] = ':';
      }
      continue;
    }
    if (i != 0) {
      out[n++] = ':';
    }
    if (i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      std::uint32_t v4 = (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                         (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]};
      n += format_ipv4(v4, out.subspan(n));
      return n;
    }
    n += format_hex16(words[i], out.subspan(n));
  }
  if (best_base != -1 && best_base + best_len == 8) {
    out[n++] = ':';
  }
  return n;
}

std::size_t IpAddress::format(std::span<char> out) const {
  if (is_v4()) {
    return format_ipv4(v4_host_order(), out);
  }
  return format_ipv6(std::span<const std::uint8_t, 16>(bytes), out);
}

std::string IpAddress::to_string() const {
  char buf[64];
  return {buf, format(buf)};
}

std::size_t Prefix::format(std::span<char> out) const {
  std::size_t n = address.format(out);
  out[n++] = '/';
  n += format_u64(length, out.subspan(n));
  return n;
}

bool Prefix::contains(const IpAddress& a) const {
  if (family() != a.family) {
    return false;
  }
  std::uint8_t bits = length;
  for (std::size_t i = 0; i < a.size() && bits > 0; ++i) {
    const std::uint8_t take = std::min<std::uint8_t>(bits, 8);
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((a.bytes[i] & mask) != (address.bytes[i] & mask)) {
      return false;
    }
    bits = static_cast<std::uint8_t>(bits - take);
  }
  return true;
}

std::string Prefix::to_string() const {
  char buf[64];
  return {buf, format(buf)};
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) {
    return std::nullopt;
  }
  unsigned len = 0;
  auto digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) {
    return std::nullopt;
  }
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    len = len * 10 + static_cast<unsigned>(c - '0');
  }
  if (len > (addr->is_v4() ? 32U : 128U)) {
    return std::nullopt;
  }
  Prefix p{*addr, static_cast<std::uint8_t>(len)};
  // Clear host bits so that equal prefixes compare equal.
  for (std::size_t i = 0; i < 16; ++i) {
    std::size_t bit = i * 8;
    if (bit >= len) {
      p.address.bytes[i] = 0;
    } else if (bit + 8 > len) {
      p.address.bytes[i] &= static_cast<std::uint8_t>(0xFF << (8 - (len - bit)));
    }
  }
  return p;
}

}  // namespace bgpscribe::codec::bgp
