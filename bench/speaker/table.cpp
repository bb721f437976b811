#include "bench/speaker/table.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/ip.hpp"
#include "speaker/update.hpp"

namespace bgpscribe::bench {

namespace {

namespace bgp = codec::bgp;
using speaker::UpdateBuilder;

// Prefix-length shares (percent) close to a present-day full table: /24 dominates IPv4, /48
// IPv6. Short prefixes are few but consume most of the address space.
constexpr std::array<std::pair<std::uint8_t, double>, 9> kIpv4Lengths{{
    {24, 64.5},
    {23, 10},
    {22, 11},
    {21, 5},
    {20, 4},
    {19, 2.5},
    {18, 1.5},
    {17, 0.5},
    {16, 1},
}};
constexpr std::array<std::pair<std::uint8_t, double>, 9> kIpv6Lengths{{
    {48, 52},
    {32, 12},
    {44, 8},
    {40, 7},
    {36, 5},
    {29, 4},
    {46, 5},
    {47, 4},
    {34, 3},
}};
// AS path lengths 2-8 (the sender's AS first).
constexpr std::array<double, 7> kPathLengths{10, 25, 30, 18, 10, 5, 2};
// Transit ASes a path runs through (2- and 4-octet).
constexpr std::array<std::uint32_t, 40> kTransit{
    174,   3356, 1299, 2914,  6939,  6453,  3257, 6762,  1273,  9002,   4637,   7018,  3491,  5511,
    12956, 6461, 701,  20473, 33891, 209,   2828, 4826,  7473,  9498,   4134,   4809,  58453, 31133,
    20485, 8359, 3320, 1239,  6830,  12389, 286,  24482, 37100, 262589, 267613, 328474};

template <std::size_t N>
std::discrete_distribution<std::size_t> weights(
    const std::array<std::pair<std::uint8_t, double>, N>& a) {
  std::array<double, N> w{};
  std::transform(a.begin(), a.end(), w.begin(), [](const auto& p) { return p.second; });
  return std::discrete_distribution<std::size_t>(w.begin(), w.end());
}

// Group sizes 1-20 with weight k^-1.5: 46 % single prefixes, 3.5 prefixes per group on average
// (full-table feeds of route collectors carry 2.5-4 prefixes per UPDATE).
std::discrete_distribution<std::size_t> group_sizes() {
  std::array<double, 20> w{};
  for (std::size_t k = 1; k <= w.size(); ++k) {
    w[k - 1] = 1.0 / (static_cast<double>(k) * std::sqrt(static_cast<double>(k)));
  }
  return std::discrete_distribution<std::size_t>(w.begin(), w.end());
}

class Generator {
 public:
  Generator(const TableOptions& o) : options_(o), rng_(o.seed) {}

  // One attribute set with its next hop; routes are added by the caller.
  UpdateBuilder attributes(const bgp::IpAddress& next_hop) {
    UpdateBuilder b;
    const double origin_roll = uniform_(rng_);
    b.origin(origin_roll < 0.85
                 ? bgp::Origin::Igp
                 : (origin_roll < 0.98 ? bgp::Origin::Incomplete : bgp::Origin::Egp));
    const std::size_t length = path_length_(rng_) + 2;
    const std::uint32_t origin_as = origin_as_();
    std::vector<std::uint32_t> path{options_.local_as};
    while (path.size() + 1 < length) {
      const std::uint32_t t = kTransit[pick_(rng_) % kTransit.size()];
      if (t != path.back()) {
        path.push_back(t);
      } else if (uniform_(rng_) < 0.5) {
        path.push_back(origin_as);  // some prepending
      }
    }
    path.push_back(origin_as);
    b.as_path(std::move(path));
    b.next_hop(next_hop);
    if (uniform_(rng_) < 0.3) {
      b.med(static_cast<std::uint32_t>(pick_(rng_) % 1000));
    }
    // Communities on 60 % of the sets, up to 8; large communities on 10 %.
    const double c = uniform_(rng_);
    const std::size_t communities =
        c < 0.4 ? 0 : (c < 0.9 ? 1 + pick_(rng_) % 3 : 4 + pick_(rng_) % 5);
    for (std::size_t i = 0; i < communities; ++i) {
      b.community(static_cast<std::uint16_t>(options_.local_as & 0xffff),
                  static_cast<std::uint16_t>(pick_(rng_) % 1000));
    }
    if (uniform_(rng_) < 0.1) {
      b.large_community(options_.local_as, 1 + pick_(rng_) % 1000, origin_as);
    }
    if (uniform_(rng_) < 0.03) {
      b.atomic_aggregate();
      b.aggregator(origin_as, 0x0a000000U | (pick_(rng_) & 0xffffff));
    }
    ++sets_;
    return b;
  }

  std::size_t group_size() {
    return options_.per_update > 0 ? options_.per_update : group_size_(rng_) + 1;
  }

  // The next IPv4 prefix in address order, or nullopt when the unicast space is used up.
  std::optional<bgp::Prefix> next_ipv4() {
    const std::uint8_t length = kIpv4Lengths[ipv4_length_(rng_)].first;
    const std::uint64_t block = std::uint64_t{1} << (32 - length);
    std::uint64_t at = (v4_cursor_ + block - 1) & ~(block - 1);
    if ((at >> 24) == 127) {
      at = std::uint64_t{128} << 24;  // loopback is not routed
    }
    if (at + block > (std::uint64_t{224} << 24)) {
      return std::nullopt;
    }
    v4_cursor_ = at + block;
    return bgp::Prefix{bgp::IpAddress::v4(static_cast<std::uint32_t>(at)), length};
  }

  // The next IPv6 prefix in address order, inside 2001::/16 onwards (2000::/3).
  std::optional<bgp::Prefix> next_ipv6() {
    const std::uint8_t length = kIpv6Lengths[ipv6_length_(rng_)].first;
    const std::uint64_t block = std::uint64_t{1} << (64 - length);
    const std::uint64_t at = (v6_cursor_ + block - 1) & ~(block - 1);
    if (at + block > 0x4000000000000000ULL) {
      return std::nullopt;
    }
    v6_cursor_ = at + block;
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < 8; ++i) {
      bytes[i] = static_cast<std::uint8_t>(at >> (56 - 8 * i));
    }
    return bgp::Prefix{bgp::IpAddress::v6(bytes), length};
  }

  [[nodiscard]] std::size_t sets() const { return sets_; }

 private:
  std::uint32_t origin_as_() {
    // 70 % 2-octet ASes (without AS_TRANS and the private range), 30 % 4-octet.
    if (uniform_(rng_) < 0.7) {
      std::uint32_t a = 1 + static_cast<std::uint32_t>(pick_(rng_) % 64000);
      return a == 23456 ? 23457 : a;
    }
    return 131072 + static_cast<std::uint32_t>(pick_(rng_) % 270000);
  }

  const TableOptions& options_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::uniform_int_distribution<std::uint64_t> pick_{};
  std::discrete_distribution<std::size_t> ipv4_length_ = weights(kIpv4Lengths);
  std::discrete_distribution<std::size_t> ipv6_length_ = weights(kIpv6Lengths);
  std::discrete_distribution<std::size_t> path_length_{kPathLengths.begin(), kPathLengths.end()};
  std::discrete_distribution<std::size_t> group_size_ = group_sizes();
  std::uint64_t v4_cursor_ = std::uint64_t{1} << 24;  // 1.0.0.0
  std::uint64_t v6_cursor_ = 0x2001000000000000ULL;
  std::size_t sets_ = 0;
};

codec::Status append(const UpdateBuilder& b, const bgp::ParseContext& ctx, std::size_t max_size,
                     std::vector<std::vector<std::uint8_t>>& scratch, EncodedTable& t) {
  scratch.clear();
  BGPSCRIBE_TRY(b.encode(ctx, max_size, scratch));
  for (const auto& m : scratch) {
    t.bytes.insert(t.bytes.end(), m.begin(), m.end());
    t.offsets.push_back(t.bytes.size());
  }
  return {};
}

}  // namespace

codec::Result<EncodedTable> build_table(const TableOptions& options, const bgp::ParseContext& ctx,
                                        std::size_t max_size) {
  Generator g(options);
  EncodedTable t;
  t.offsets.push_back(0);
  t.bytes.reserve((options.ipv4 + options.ipv6) * 40);
  std::vector<std::vector<std::uint8_t>> scratch;

  const auto v4_next_hop = bgp::IpAddress::v4(0xc0000201U);  // 192.0.2.1
  std::array<std::uint8_t, 16> nh6{0xfd, 0x00, 0x01, 0xab};
  nh6[15] = 1;
  const auto v6_next_hop = bgp::IpAddress::v6(nh6);  // fd00:1ab::1

  while (t.ipv4_prefixes < options.ipv4) {
    UpdateBuilder b = g.attributes(v4_next_hop);
    const std::size_t n = std::min(g.group_size(), options.ipv4 - t.ipv4_prefixes);
    for (std::size_t i = 0; i < n; ++i) {
      const auto p = g.next_ipv4();
      if (!p) {
        return codec::fail(codec::ErrorKind::TooLarge, 0, "IPv4 unicast address space used up");
      }
      b.announce(*p);
    }
    BGPSCRIBE_TRY(append(b, ctx, max_size, scratch, t));
    t.ipv4_prefixes += n;
  }
  while (t.ipv6_prefixes < options.ipv6) {
    UpdateBuilder b = g.attributes(v6_next_hop);
    const std::size_t n = std::min(g.group_size(), options.ipv6 - t.ipv6_prefixes);
    for (std::size_t i = 0; i < n; ++i) {
      const auto p = g.next_ipv6();
      if (!p) {
        return codec::fail(codec::ErrorKind::TooLarge, 0, "IPv6 address space used up");
      }
      b.announce(*p);
    }
    BGPSCRIBE_TRY(append(b, ctx, max_size, scratch, t));
    t.ipv6_prefixes += n;
  }
  t.attribute_sets = g.sets();
  return t;
}

std::string describe(const EncodedTable& t) {
  char buf[256];
  const std::size_t prefixes = t.ipv4_prefixes + t.ipv6_prefixes;
  std::snprintf(
      buf, sizeof buf,
      "%zu IPv4 + %zu IPv6 prefixes, %zu attribute sets, %zu UPDATEs, %.1f MB "
      "(%.2f prefixes and %.0f bytes per UPDATE)",
      t.ipv4_prefixes, t.ipv6_prefixes, t.attribute_sets, t.messages(),
      static_cast<double>(t.bytes.size()) / 1e6,
      static_cast<double>(prefixes) / static_cast<double>(std::max<std::size_t>(1, t.messages())),
      static_cast<double>(t.bytes.size()) /
          static_cast<double>(std::max<std::size_t>(1, t.messages())));
  return buf;
}

}  // namespace bgpscribe::bench
