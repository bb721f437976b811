// Fast text building for tool output: append numbers, addresses and times to a std::string
// without printf. Used per route by `dump`, so it avoids locale, allocation and formatting
// parsers. Protocol values (communities, hex, names) are spelled by codec/bgp/text.hpp; this
// file only places them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/text.hpp"

namespace bgpscribe::tools {

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

// The characters of bgpdump's IPv6 text (see append_ipv6_bgpdump); needs 46 bytes of room.
std::size_t format_ipv6_bgpdump(std::span<const std::uint8_t, 16> bytes, std::span<char> out);

// IPv6 text as bgpdump prints it (its own fmt_ipv6, not inet_ntop): the longest run of zero
// groups is compressed even when it is a single group (first run wins ties), and IPv4-mapped
// (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, except :: and ::1) addresses get a
// dotted tail.
inline void append_ipv6_bgpdump(std::string& out, std::span<const std::uint8_t, 16> bytes) {
  char buf[48];
  out.append(buf, format_ipv6_bgpdump(bytes, buf));
}

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
  append_padded(out, static_cast<std::uint64_t>(tm.tm_mon) + 1, 2);
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

// The output buffer of the per-route hot path: writes go straight into storage that grows
// geometrically (never per character) and is reused after clear(), so formatting a line costs
// no allocation and no per-append bookkeeping of std::string.
class Text {
 public:
  Text() : data_(new char[kInitial]), cap_(kInitial) {}
  Text(const Text&) = delete;
  Text& operator=(const Text&) = delete;

  [[nodiscard]] std::string_view view() const { return {data_.get(), len_}; }
  void clear() { len_ = 0; }
  [[nodiscard]] std::size_t size() const { return len_; }
  void truncate(std::size_t n) { len_ = std::min(n, len_); }
  void put(char c) {
    room(1);
    data_[len_++] = c;
  }
  void put(std::string_view v) {
    room(v.size());
    std::memcpy(free_space().data(), v.data(), v.size());
    len_ += v.size();
  }
  void u64(std::uint64_t v) {
    room(24);
    len_ += codec::bgp::format_u64(v, free_space());
  }
  void i64(std::int64_t v) {
    if (v < 0) {
      put('-');
      u64(static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v));
    } else {
      u64(static_cast<std::uint64_t>(v));
    }
  }
  void ipv4(std::uint32_t host_order) {
    room(16);
    len_ += codec::bgp::format_ipv4(host_order, free_space());
  }
  void ipv6_bgpdump(std::span<const std::uint8_t, 16> bytes) {
    room(48);
    len_ += format_ipv6_bgpdump(bytes, free_space());
  }
  void hex(std::span<const std::uint8_t> bytes) {
    format(bytes.size() * 2, [bytes](char* p) { return codec::bgp::format_hex(bytes, p); });
  }
  // Appends what `f(char* out)` writes and counts, at most `max` characters: the codec's
  // format_* functions of protocol values (codec/bgp/text.hpp).
  template <class F>
  void format(std::size_t max, F&& f) {
    room(max);
    len_ += f(free_space().data());
  }

 private:
  static constexpr std::size_t kInitial = std::size_t{1} << 16;
  // The storage after the text, room() made large enough.
  std::span<char> free_space() { return std::span<char>(data_.get(), cap_).subspan(len_); }
  void room(std::size_t n) {
    if (len_ + n > cap_) [[unlikely]] {
      grow(n);
    }
  }
  // Uninitialised storage: zero-filling megabytes of output buffer would cost more than
  // formatting into it.
  [[gnu::noinline]] void grow(std::size_t n) {
    const std::size_t cap = std::max(len_ + n, cap_ * 2);
    std::unique_ptr<char[]> bigger(new char[cap]);
    std::memcpy(bigger.get(), data_.get(), len_);
    data_ = std::move(bigger);
    cap_ = cap;
  }
  std::unique_ptr<char[]> data_;
  std::size_t cap_;
  std::size_t len_ = 0;
};

}  // namespace bgpscribe::tools
