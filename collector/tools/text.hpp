// Fast text building for tool output: append numbers, addresses and times to a std::string
// without printf. Used per route by `dump`, so it avoids locale, allocation and formatting
// parsers.
#pragma once

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

#include "codec/bgp/ip.hpp"

namespace bgpscribe::collector::tools {

inline void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  out.append(buf, codec::bgp::format_u64(v, buf));
}

inline void append_i64(std::string& out, std::int64_t v) {
  if (v < 0) {
    out.push_back('-');
    append_u64(out, static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v));
  } else {
    append_u64(out, static_cast<std::uint64_t>(v));
  }
}

inline void append_ipv4(std::string& out, std::uint32_t host_order) {
  char buf[16];
  out.append(buf, codec::bgp::format_ipv4(host_order, buf));
}

inline void append_ipv6(std::string& out, std::span<const std::uint8_t, 16> bytes) {
  char buf[48];
  out.append(buf, codec::bgp::format_ipv6(bytes, buf));
}

// IPv6 text as bgpdump prints it (its own fmt_ipv6, not inet_ntop): the longest run of zero
// groups is compressed even when it is a single group (first run wins ties), and IPv4-mapped
// (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, except :: and ::1) addresses get a
// dotted tail.
void append_ipv6_bgpdump(std::string& out, std::span<const std::uint8_t, 16> bytes);

inline void append_ip(std::string& out, const codec::bgp::IpAddress& a) {
  char buf[48];
  out.append(buf, a.format(buf));
}

// Zero-padded decimal of fixed width.
inline void append_padded(std::string& out, std::uint64_t v, int width) {
  char buf[24];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

// "MM/DD/YY HH:MM:SS" in UTC (bgpdump -M).
inline void append_bgpdump_time(std::string& out, std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  append_padded(out, static_cast<std::uint64_t>(tm.tm_mon + 1), 2);
  out.push_back('/');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_mday), 2);
  out.push_back('/');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_year % 100), 2);
  out.push_back(' ');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_hour), 2);
  out.push_back(':');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_min), 2);
  out.push_back(':');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_sec), 2);
}

inline void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
}

}  // namespace bgpscribe::collector::tools
