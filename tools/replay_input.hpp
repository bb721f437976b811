// What `bgpscribe replay` sends, read from MRT files: the routes of every MRT peer, grouped by
// attribute set, and the UPDATE messages of update files as announcement and withdrawal events.
//
// RIB dumps (TABLE_DUMP_V2 with RIB_GENERIC and the ADD-PATH subtypes, legacy TABLE_DUMP) and
// update files (BGP4MP and BGP4MP_ET messages, AS4 and ADD-PATH subtypes, the deprecated type 5)
// are decoded by the codec only. Attributes are kept in one canonical form: 4-octet AS_PATH and
// AGGREGATOR (2-octet records are converted, AS4_PATH and AS4_AGGREGATOR merged per RFC 6793
// section 4.2.3 and dropped), without MP_REACH_NLRI / MP_UNREACH_NLRI (the encoder rebuilds them;
// the IPv6 next hop is kept beside the attributes). Routes that share a canonical attribute set
// within one MRT peer and family share one AttributeSet, found through a hash map keyed by the
// attribute bytes. Only IPv4 and IPv6 unicast are replayed; other families are counted and
// skipped. No sockets here; malformed records are reported and counted, never fatal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/ip.hpp"
#include "tools/replay_scale.hpp"

namespace bgpscribe::tools {

// One prefix of an MRT peer (host bits cleared).
struct ReplayRoute {
  codec::bgp::Prefix prefix;
  std::uint32_t path_id = 0;  // 0 unless --add-path
  std::uint32_t rank = 0;     // ScaleMap rank, set by ReplayInput::finish when scaling
  // What sending this route changes in the number of routes the receiver holds, in sending
  // order (RIB, then update events): +1 a new (prefix, path id), -1 the withdrawal of a held
  // one, 0 a replacement or the withdrawal of something not held. Set by ReplayInput::finish.
  std::int8_t held_delta = 0;
};

// Routes of one MRT peer and family with the same attributes.
struct AttributeSet {
  codec::bgp::AfiSafi family = codec::bgp::kIpv4Unicast;
  // Canonical attribute TLVs (see the header comment), in their original order.
  std::vector<std::uint8_t> attributes;
  // IPv6: the MP_REACH_NLRI next-hop field (16 or 32 octets; empty: synthesize one). IPv4: a
  // 4-octet next hop from MP_REACH_NLRI when the attributes have no NEXT_HOP (empty: use the
  // session's source address).
  std::vector<std::uint8_t> next_hop;
  bool has_next_hop_attribute = false;
  std::vector<ReplayRoute> rib;  // RIB routes with these attributes, in input order
};

// One UPDATE of an update file becomes one event per family and kind.
struct UpdateEvent {
  std::uint64_t time_us = 0;
  std::uint32_t set = 0;  // announcements: index of their AttributeSet
  std::uint32_t begin = 0;
  std::uint32_t end = 0;  // routes [begin, end) of MrtPeer::update_routes
  codec::bgp::AfiSafi family = codec::bgp::kIpv4Unicast;
  bool withdraw = false;
};

struct MrtPeer {
  codec::bgp::IpAddress ip;
  std::uint32_t as = 0;
  std::uint32_t bgp_id = 0;  // from the PEER_INDEX_TABLE; 0 when unknown
  std::vector<AttributeSet> sets;
  std::vector<ReplayRoute> update_routes;
  std::vector<UpdateEvent> updates;
  std::uint64_t rib_routes = 0;
  std::uint64_t update_prefixes = 0;

  [[nodiscard]] std::uint64_t route_count() const { return rib_routes + update_prefixes; }

  // Finds or adds the set for `family`, canonical `attributes` and `next_hop`.
  std::uint32_t intern(codec::bgp::AfiSafi family, std::span<const std::uint8_t> attributes,
                       std::span<const std::uint8_t> next_hop, bool has_next_hop_attribute);

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, KeyHash, std::equal_to<>> index_;
  std::string key_;
};

struct InputOptions {
  bool add_path = false;  // keep path ids (else drop them and keep the first entry per prefix)
  bool ipv4 = true;
  bool ipv6 = true;
  bool quiet = false;  // do not print each malformed record
};

struct InputStats {
  std::uint64_t records = 0;
  std::uint64_t malformed = 0;          // records or entries skipped as malformed
  std::uint64_t skipped_family = 0;     // routes of other families (or filtered out)
  std::uint64_t skipped_duplicate = 0;  // RIB entries of a peer for a prefix it already has
  std::uint64_t rib_routes = 0;
  std::uint64_t update_messages = 0;
  std::uint64_t io_errors = 0;  // files that could not be opened or read to the end
};

class ReplayInput {
 public:
  explicit ReplayInput(InputOptions options) : options_(options) {}

  // Reads one file (plain, gz, bz2); false when it could not be opened. Problems are reported
  // on stderr as "FILE: record N at byte B: what" and counted.
  bool load(const std::string& path);
  // Adds, for `percent` of every MRT peer's IPv4 RIB routes, an IPv6 route derived from it
  // (ipv6_from_ipv4 below) with the same attributes, as a stand-in for the IPv6 table the
  // samples lack. The choice is a hash of the prefix, so every peer derives the same prefixes.
  // Call after loading, before finish(); returns the routes added.
  std::uint64_t derive_ipv6(std::uint32_t percent);
  // Computes the scale ranks (when scale > 1) and every route's held_delta. Call once after
  // loading everything.
  void finish(std::uint32_t scale);

  [[nodiscard]] const std::vector<std::unique_ptr<MrtPeer>>& peers() const { return peers_; }
  [[nodiscard]] const InputStats& stats() const { return stats_; }
  [[nodiscard]] const ScaleMap& scale_map() const { return scale_; }
  // The first update timestamp over all files (µs), for paced replay.
  [[nodiscard]] std::uint64_t first_update_us() const { return first_update_us_; }

 private:
  MrtPeer& peer(const codec::bgp::IpAddress& ip, std::uint32_t as);
  [[nodiscard]] bool wanted(codec::bgp::AfiSafi family) const;

  InputOptions options_;
  InputStats stats_;
  std::vector<std::unique_ptr<MrtPeer>> peers_;
  std::unordered_map<std::string, MrtPeer*> by_key_;
  ScaleMap scale_;
  std::uint64_t first_update_us_ = ~std::uint64_t{0};
};

// The IPv6 prefix derived from an IPv4 prefix a.b.c.d/L: 3ffe:AABB:CCDD::/(L+16), i.e. the
// 32 address bits behind the 16-bit tag 3ffe (the 6bone block, returned in 2006 and unassigned
// since), so distinct IPv4 prefixes give distinct IPv6 ones of realistic lengths (/24 -> /40).
codec::bgp::Prefix ipv6_from_ipv4(const codec::bgp::Prefix& v4);

// Appends one attribute TLV (RFC 4271 section 4.3); the Extended Length flag is set when the
// value needs it and kept when `flags` has it.
void append_attribute(std::vector<std::uint8_t>& out, std::uint8_t flags, std::uint8_t type,
                      std::span<const std::uint8_t> value);

// Writes the canonical form of a decoded attribute block (see the header comment) into `out`;
// `four_octet` says how the block encodes AS numbers.
void canonical_attributes(const codec::bgp::PathAttributes& attributes, bool four_octet,
                          std::vector<std::uint8_t>& out);

}  // namespace bgpscribe::tools
