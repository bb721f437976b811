// `bgpscribe replay`: MRT files replayed into BGP sessions toward a collector, one session per
// MRT peer (or several: --clone), as a load generator for benchmarks and as a testing tool.
//
// The MRT input is read by ReplayInput (replay_input.hpp) through the codec, routes are packed
// into UPDATEs by Packer (replay_packer.hpp) and sent through the speaker library: each session
// is an active Peer from its own source address (127.0.0.2, .3, ... by default) with the MRT
// peer's AS. RIB routes go first, then End-of-RIB per family, then the update files' messages
// (at the recorded pace times --speed, or as fast as possible). Sending is paced by the send
// queue (Peer::send_queue_bytes), so memory stays bounded and the sessions keep reading
// keepalives. --record writes what was sent as BGP4MP_MESSAGE_AS4(_ADDPATH) records, as the
// collector would archive them. docs/replay.md is the user's guide.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/replay_input.hpp"

namespace bgpscribe::tools {

struct ReplayOptions {
  std::vector<std::string> files;
  std::string to = "127.0.0.1";
  std::uint16_t port = 179;
  std::string source_base = "127.0.0.2";
  std::size_t peers = 0;             // the N MRT peers with the most routes; 0 = all
  std::uint32_t clone = 1;           // sessions per chosen MRT peer
  std::uint32_t scale = 1;           // prefixes per input prefix (replay_scale.hpp)
  std::uint32_t ipv6_from_ipv4 = 0;  // percent of IPv4 RIB routes also sent as derived IPv6
  double speed = 0;                  // 0: as fast as possible; F: update files at recorded pace x F
  bool add_path = false;
  std::vector<std::string> families{"ipv4", "ipv6"};
  double hold = 2;  // seconds after the end; 0: close when drained; -1: until killed
  std::string record;
  bool stats = false;
  double connect_timeout = 10;
  std::uint32_t remote_as = 0;  // 0: whatever the collector announces
  bool quiet = false;           // no per-record problem reports
  bool diversify = false;       // every session its own AS, next hop and share of prefixes
};

// --diversify: session i (0 for the first) speaks as AS kDiversifyAsBase + 1 + i, a 4-octet
// private AS (RFC 6996), prepends it to every AS_PATH, sends next hop 198.18.0.0 + 1 + i (the
// benchmarking block of RFC 2544; 2001:db8::c612:1 + i for IPv6, as --ipv6-from-ipv4 maps
// IPv4 next hops) and leaves out the prefixes for which diversify_leaves_out is true, about
// kDiversifyLeaveOutPerMille per mille of them, announcements and withdrawals alike.
constexpr std::uint32_t kDiversifyAsBase = 4200100000;
constexpr std::uint32_t kDiversifyLeaveOutPerMille = 10;
std::uint32_t diversify_as(std::uint32_t session);
codec::bgp::IpAddress diversify_next_hop_v4(std::uint32_t session);
codec::bgp::IpAddress diversify_next_hop_v6(std::uint32_t session);
// A hash of (session, prefix) below kDiversifyLeaveOutPerMille of 1000: the same prefix (a scale
// copy is a prefix of its own) is left out by the same session on every run.
bool diversify_leaves_out(std::uint32_t session, const codec::bgp::Prefix& prefix);

struct ReplaySessionStats {
  std::string source;
  std::uint32_t as = 0;
  std::string mrt_peer;
  std::uint64_t prefixes = 0;       // announced (scale copies included)
  std::uint64_t ipv6_prefixes = 0;  // of which IPv6
  std::uint64_t withdrawals = 0;    // withdrawn
  std::uint64_t messages = 0;       // UPDATEs, End-of-RIB included
  std::uint64_t bytes = 0;
  std::uint64_t scale_skipped = 0;  // copies the scale domain had no room for
  std::uint64_t left_out = 0;       // announcements not sent (--diversify)
  std::uint64_t held = 0;           // routes the collector holds at the end if it takes them all
  double seconds = 0;               // from Established until the send queue drained
  bool ok = false;
};

struct ReplayResult {
  InputStats input;
  std::vector<ReplaySessionStats> sessions;
  std::uint64_t prefixes = 0;
  std::uint64_t ipv6_prefixes = 0;
  std::uint64_t withdrawals = 0;
  std::uint64_t held = 0;
  std::uint64_t left_out = 0;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;  // first Established until the last session drained
};

// Runs the replay; returns the exit status: 0 done (malformed records are reported and counted,
// not fatal), 1 a session failed or the input holds no routes, 2 usage or I/O problems.
int run_replay(const ReplayOptions& options, ReplayResult* result = nullptr);

}  // namespace bgpscribe::tools
