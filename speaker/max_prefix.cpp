#include "speaker/max_prefix.hpp"

#include <vector>

#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::speaker {

namespace bgp = codec::bgp;

std::size_t MaxPrefixCounter::RouteKeyHash::operator()(const RouteKey& k) const {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ULL; };
  for (auto b : k.bytes) {
    mix(b);
  }
  mix(k.path_id);
  mix(k.length);
  mix(static_cast<std::uint64_t>(k.family.afi) << 8 | static_cast<std::uint64_t>(k.family.safi));
  return h;
}

MaxPrefixCounter::RouteKey MaxPrefixCounter::key(bgp::AfiSafi family, const bgp::Nlri& n) {
  RouteKey k;
  const auto p = n.prefix();  // host bits cleared: 10.0.0.1/8 is 10.0.0.0/8
  k.bytes = p.address.bytes;
  k.length = p.length;
  k.path_id = n.path_id;
  k.family = family;
  return k;
}

MaxPrefixDecision MaxPrefixCounter::account(const bgp::Update& u) {
  MaxPrefixDecision d;
  if (limit_ == 0) {
    return d;
  }
  // Withdrawals first (RFC 4271 section 4.3: a prefix both withdrawn and announced in one
  // UPDATE is announced); a route not held is nothing to withdraw. Only plain-prefix families are
  // decoded, so only they are counted.
  for (const auto& n : u.withdrawn) {
    routes_.erase(key(bgp::kIpv4Unicast, n));
  }
  for (const auto& n : u.attributes.mp_unreach.withdrawn) {
    routes_.erase(key(u.attributes.mp_unreach.family, n));
  }
  // RFC 7606 section 2: under treat-as-withdraw the announced routes are withdrawn.
  const bool withdraw_all = u.reaction() == codec::Reaction::TreatAsWithdraw;
  bgp::AfiSafi last{};
  bool added = false;
  for (const auto& n : u.nlri) {
    if (withdraw_all) {
      routes_.erase(key(bgp::kIpv4Unicast, n));
    } else {
      // A route announced again replaces the one held (RFC 4271 section 3.1, implicit
      // withdraw): it is counted once. ADD-PATH path ids make distinct routes (RFC 7911).
      added |= routes_.insert(key(bgp::kIpv4Unicast, n)).second;
      last = bgp::kIpv4Unicast;
    }
  }
  const auto& reach = u.attributes.mp_reach.nlri;
  for (const auto& n : reach) {
    if (withdraw_all) {
      routes_.erase(key(reach.family(), n));
    } else {
      added |= routes_.insert(key(reach.family(), n)).second;
      last = reach.family();
    }
  }
  // Only an UPDATE that adds a route can take the count past the limit.
  if (added && routes_.size() > limit_) {
    // RFC 4486 section 4: Cease / Maximum Number of Prefixes Reached, with AFI, SAFI and limit.
    const auto data = bgp::max_prefixes_data(last, limit_);
    d.action = MaxPrefixDecision::Action::TearDown;
    d.family = last;
    d.notification =
        bgp::Notification{bgp::error_code::kCease, bgp::cease_subcode::kMaxPrefixesReached,
                          std::vector<std::uint8_t>(data.begin(), data.end())};
  }
  return d;
}

}  // namespace bgpscribe::speaker
