// Max-prefix (RFC 4486 section 4, Cease / Maximum Number of Prefixes Reached): counts the
// routes held from a peer, one per (family, prefix, path id) over every family together, and
// says when an UPDATE takes the count past the limit. Plain code: a decoded UPDATE in, a
// decision out; Peer sends the NOTIFICATION and reports the error (speaker/peer.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_set>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/update.hpp"

namespace bgpscribe::speaker {

struct MaxPrefixDecision {
  enum class Action : std::uint8_t {
    None,      // within the limit
    TearDown,  // past it: send `notification` and end the session
  };
  Action action = Action::None;
  // TearDown: the family of the UPDATE's last announced route (MP_REACH_NLRI after the NLRI
  // field), named with the limit in the Cease 6/1 data.
  codec::bgp::AfiSafi family{};
  codec::bgp::Notification notification{};
};

class MaxPrefixCounter {
 public:
  // 0: no limit, and nothing is counted.
  explicit MaxPrefixCounter(std::uint32_t limit) : limit_(limit) {}

  // Applies one accepted UPDATE (any RFC 7606 reaction short of a session reset).
  [[nodiscard]] MaxPrefixDecision account(const codec::bgp::Update& update);
  // Forgets every route (a session came up or went down).
  void clear() { routes_.clear(); }

  [[nodiscard]] bool enabled() const { return limit_ != 0; }
  [[nodiscard]] std::uint32_t limit() const { return limit_; }
  [[nodiscard]] std::size_t count() const { return routes_.size(); }

 private:
  struct RouteKey {
    std::array<std::uint8_t, 16> bytes{};  // the prefix, host bits cleared
    std::uint32_t path_id = 0;
    std::uint8_t length = 0;
    codec::bgp::AfiSafi family{};
    friend bool operator==(const RouteKey&, const RouteKey&) = default;
  };
  struct RouteKeyHash {
    std::size_t operator()(const RouteKey& k) const;
  };
  static RouteKey key(codec::bgp::AfiSafi family, const codec::bgp::Nlri& n);

  std::uint32_t limit_;
  std::unordered_set<RouteKey, RouteKeyHash> routes_;
};

}  // namespace bgpscribe::speaker
