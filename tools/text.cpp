#include "tools/text.hpp"

#include <algorithm>
#include <string_view>

namespace bgpscribe::tools {

std::size_t format_ipv6_bgpdump(std::span<const std::uint8_t, 16> b, std::span<char> out) {
  std::size_t n = 0;
  bool zero12 = true;
  for (std::size_t i = 0; i < 10; ++i) {
    zero12 = zero12 && b[i] == 0;
  }
  const bool mapped = zero12 && b[10] == 0xFF && b[11] == 0xFF;
  const std::uint32_t tail = (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                             (std::uint32_t{b[14]} << 8) | b[15];
  const bool compat = zero12 && b[10] == 0 && b[11] == 0 && tail > 1;
  if (mapped || compat) {
    const std::string_view head = mapped ? "::ffff:" : "::";
    std::copy(head.begin(), head.end(), out.begin());
    return head.size() + codec::bgp::format_ipv4(tail, out.subspan(head.size()));
  }
  std::uint16_t words[8];
  for (std::size_t i = 0; i < 8; ++i) {
    words[i] = static_cast<std::uint16_t>((b[2 * i] << 8) | b[2 * i + 1]);
  }
  // Length of the zero run starting at each group; the longest (first on ties) is compressed.
  int run[8];
  int zeros = 0;
  for (int i = 7; i >= 0; --i) {
    zeros = words[i] == 0 ? zeros + 1 : 0;
    run[i] = zeros;
  }
  int best = -1;
  int best_len = 0;
  for (int i = 0; i < 8; ++i) {
    if (run[i] > best_len) {
      best = i;
      best_len = run[i];
    }
  }
  static constexpr char kHex[] = "0123456789abcdef";
  auto put = [&](char c) { out[n++] = c; };
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      if (i == 0) {
        put(':');
      }
      put(':');
      i += best_len - 1;
      continue;
    }
    const std::uint16_t w = words[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (w >> shift) & 0xFU;
      if (d != 0 || started || shift == 0) {
        put(kHex[d]);
        started = true;
      }
    }
    if (i != 7) {
      put(':');
    }
  }
  return n;
}

}  // namespace bgpscribe::tools
