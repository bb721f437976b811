#include "tools/replay_scale.hpp"

#include <algorithm>
#include <cassert>

namespace bgpscribe::tools {

namespace bgp = codec::bgp;

namespace {

__extension__ using U128 = unsigned __int128;
__extension__ using I128 = __int128;

// First octets of the IPv4 domain: 1-223 without 10 (RFC 1918) and 127 (loopback); 221 of them.
constexpr std::uint64_t kIpv4FirstOctets = 221;

constexpr std::array<std::int16_t, 256> make_octet_index() {
  std::array<std::int16_t, 256> index{};
  std::int16_t n = 0;
  for (int f = 0; f < 256; ++f) {
    const bool allowed = f >= 1 && f <= 223 && f != 10 && f != 127;
    index[static_cast<std::size_t>(f)] = allowed ? n++ : std::int16_t{-1};
  }
  return index;
}
constexpr std::array<std::int16_t, 256> kOctetIndex = make_octet_index();

constexpr std::array<std::uint8_t, kIpv4FirstOctets> make_octets() {
  std::array<std::uint8_t, kIpv4FirstOctets> octets{};
  for (int f = 0; f < 256; ++f) {
    if (kOctetIndex[static_cast<std::size_t>(f)] >= 0) {
      octets[static_cast<std::size_t>(kOctetIndex[static_cast<std::size_t>(f)])] =
          static_cast<std::uint8_t>(f);
    }
  }
  return octets;
}
constexpr std::array<std::uint8_t, kIpv4FirstOctets> kOctets = make_octets();

std::uint64_t mask(unsigned bits) {
  return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

std::uint64_t mulmod(std::uint64_t a, std::uint64_t b, std::uint64_t m) {
  return static_cast<std::uint64_t>((static_cast<U128>(a) * b) % m);
}

std::uint64_t gcd(std::uint64_t a, std::uint64_t b) {
  while (b != 0) {
    const std::uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// a^-1 mod m for gcd(a, m) == 1 (extended Euclid).
std::uint64_t inverse(std::uint64_t a, std::uint64_t m) {
  if (m == 1) {
    return 0;
  }
  I128 t = 0;
  I128 new_t = 1;
  I128 r = m;
  I128 new_r = a;
  while (new_r != 0) {
    const I128 q = r / new_r;
    const I128 tt = t - q * new_t;
    t = new_t;
    new_t = tt;
    const I128 rr = r - q * new_r;
    r = new_r;
    new_r = rr;
  }
  if (t < 0) {
    t += m;
  }
  return static_cast<std::uint64_t>(t);
}

}  // namespace

std::size_t ScaleMap::index(const bgp::Prefix& p) {
  return p.address.is_v4() ? p.length : 33U + p.length;
}

std::uint8_t ScaleMap::key_bits_of(const bgp::Prefix& p) {
  return p.address.is_v4() ? p.length : std::min<std::uint8_t>(p.length, 64);
}

std::uint64_t ScaleMap::key_of(const bgp::Prefix& p, std::uint8_t key_bits) {
  if (key_bits == 0) {
    return 0;
  }
  std::uint64_t v = 0;
  const std::size_t n = p.address.is_v4() ? 4 : 8;
  for (std::size_t i = 0; i < n; ++i) {
    v = (v << 8) | p.address.bytes[i];
  }
  return v >> (n * 8 - key_bits);
}

std::uint64_t ScaleMap::domain_size(bool v6, std::uint8_t key_bits) {
  if (!v6) {
    return key_bits < 8 ? std::uint64_t{1} << key_bits : kIpv4FirstOctets << (key_bits - 8U);
  }
  return key_bits <= 3 ? std::uint64_t{1} << key_bits : std::uint64_t{1} << (key_bits - 3U);
}

std::optional<std::uint64_t> ScaleMap::to_domain(bool v6, std::uint8_t key_bits,
                                                 std::uint64_t key) {
  if (!v6) {
    if (key_bits < 8) {
      return key;
    }
    const unsigned rest = key_bits - 8U;
    const auto idx = kOctetIndex[static_cast<std::size_t>(key >> rest)];
    if (idx < 0) {
      return std::nullopt;
    }
    return (static_cast<std::uint64_t>(idx) << rest) | (key & mask(rest));
  }
  if (key_bits <= 3) {
    return key;
  }
  const unsigned rest = key_bits - 3U;
  if ((key >> rest) != 1) {  // 2000::/3
    return std::nullopt;
  }
  return key & mask(rest);
}

std::uint64_t ScaleMap::from_domain(bool v6, std::uint8_t key_bits, std::uint64_t x) {
  if (!v6) {
    if (key_bits < 8) {
      return x;
    }
    const unsigned rest = key_bits - 8U;
    return (std::uint64_t{kOctets[static_cast<std::size_t>(x >> rest)]} << rest) | (x & mask(rest));
  }
  if (key_bits <= 3) {
    return x;
  }
  const unsigned rest = key_bits - 3U;
  return (std::uint64_t{1} << rest) | x;
}

void ScaleMap::add(const bgp::Prefix& prefix) {
  assert(!frozen_);
  Table& t = tables_[index(prefix)];
  t.keys.push_back(key_of(prefix, key_bits_of(prefix)));
}

void ScaleMap::freeze() {
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    Table& t = tables_[i];
    const bool v6 = i >= 33;
    const auto length = static_cast<std::uint8_t>(v6 ? i - 33 : i);
    t.key_bits = v6 ? std::min<std::uint8_t>(length, 64) : length;
    std::sort(t.keys.begin(), t.keys.end());
    t.keys.erase(std::unique(t.keys.begin(), t.keys.end()), t.keys.end());
    t.keys.shrink_to_fit();
    t.domain = domain_size(v6, t.key_bits);
    if (t.domain <= 1) {
      t.a = 0;
      t.b = 0;
      t.a_inverse = 0;
    } else {
      t.a = (0x9E3779B97F4A7C15ULL % t.domain) | 1U;
      while (gcd(t.a, t.domain) != 1) {
        t.a = (t.a + 2) % t.domain;
      }
      t.b = 0x5851F42D4C957F2DULL % t.domain;
      t.a_inverse = inverse(t.a, t.domain);
    }
    // Reserve the u of every input key inside the domain: copies never land on an input prefix.
    std::vector<std::uint64_t> reserved;
    reserved.reserve(t.keys.size());
    for (const std::uint64_t key : t.keys) {
      if (auto x = to_domain(v6, t.key_bits, key)) {
        const std::uint64_t shifted = (*x + t.domain - (t.b % t.domain)) % t.domain;
        reserved.push_back(t.domain <= 1 ? 0 : mulmod(t.a_inverse, shifted, t.domain));
      }
    }
    std::sort(reserved.begin(), reserved.end());
    t.gaps.resize(reserved.size());
    for (std::size_t r = 0; r < reserved.size(); ++r) {
      t.gaps[r] = reserved[r] - r;
    }
  }
  frozen_ = true;
}

std::uint32_t ScaleMap::rank(const bgp::Prefix& prefix) const {
  const Table& t = tables_[index(prefix)];
  const std::uint64_t key = key_of(prefix, t.key_bits);
  return static_cast<std::uint32_t>(std::lower_bound(t.keys.begin(), t.keys.end(), key) -
                                    t.keys.begin());
}

std::optional<bgp::Prefix> ScaleMap::copy(const bgp::Prefix& prefix, std::uint32_t rank,
                                          std::uint32_t k) const {
  if (k == 0) {
    return prefix;
  }
  const Table& t = tables_[index(prefix)];
  const std::uint64_t capacity = t.domain - t.gaps.size();
  const std::uint64_t j = std::uint64_t{k - 1} * t.keys.size() + rank;
  if (j >= capacity) {
    return std::nullopt;
  }
  // u is the j-th value not reserved: j plus the number of reserved values below it.
  const auto below = static_cast<std::uint64_t>(std::upper_bound(t.gaps.begin(), t.gaps.end(), j) -
                                                t.gaps.begin());
  const std::uint64_t u = j + below;
  const std::uint64_t x = t.domain <= 1 ? 0 : (mulmod(t.a, u, t.domain) + t.b) % t.domain;
  const bool v6 = !prefix.address.is_v4();
  const std::uint64_t key = from_domain(v6, t.key_bits, x);

  bgp::Prefix out = prefix;
  const std::size_t n = v6 ? 8 : 4;
  const std::uint64_t hi = t.key_bits == 0 ? 0 : key << (n * 8 - t.key_bits);
  for (std::size_t i = 0; i < n; ++i) {
    out.address.bytes[i] = static_cast<std::uint8_t>(hi >> ((n - 1 - i) * 8));
  }
  return out;
}

}  // namespace bgpscribe::tools
