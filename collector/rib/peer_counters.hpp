// What one peer sent, as the RIB counts it: a plain struct, so that the status view (and the
// metrics endpoint that renders it) need not include the RIB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/bgp/afi_safi.hpp"

namespace bgpscribe::collector::rib {

// What one peer sent, per family and in all (the metrics endpoint's counters). Counted since the
// peer was first seen in this run, across its sessions, so that they only go up.
struct PeerFamilyCounters {
  codec::bgp::AfiSafi family{};
  std::size_t routes = 0;       // held now (live and stale)
  std::uint64_t announced = 0;  // prefixes announced
  std::uint64_t withdrawn = 0;  // prefixes withdrawn (not those of treat-as-withdraw)
};
struct PeerCounters {
  std::vector<PeerFamilyCounters> families;
  std::uint64_t withdrawn_unknown = 0;  // withdrawals of routes not held
  std::uint64_t treat_as_withdraw_updates = 0;
  std::uint64_t treat_as_withdraw_prefixes = 0;
};

}  // namespace bgpscribe::collector::rib
