// Turning the collector's records into BMP messages (RFC 7854), as a monitored router would
// send them about its own peers: per-peer headers, Peer Up/Down, Route Monitoring, Statistics
// Reports, Initiation and Termination, and the UPDATEs of a table dump rebuilt from a
// RibSnapshot's TABLE_DUMP_V2 attributes for the session's own encoding.
//
// Pure functions over codec types: no sockets, threads or clocks.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/nlri.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/bmp/message.hpp"
#include "codec/wire/writer.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::exporters::bmp {

// RFC 7854 section 4.2: V from the peer address, A when the session is not 4-octet AS,
// timestamp `time_us`. The collector's own sessions: peer type 0 (global instance),
// distinguisher 0, L = 0 (pre-policy). A peer a BMP router reported (PeerInfo::from_bmp):
// that router's peer type, distinguisher and L flag (no flags for Loc-RIB, RFC 9069).
codec::bmp::PerPeerHeader per_peer_header(const PeerInfo& peer, bool four_octet_as,
                                          std::int64_t time_us);

// RFC 7854 section 4.3: sysName and sysDescr.
void encode_initiation(const std::string& sys_name, const std::string& sys_descr,
                       codec::wire::Writer& w);
// RFC 7854 section 4.5: reason 0, administratively closed.
void encode_termination(codec::wire::Writer& w);
// RFC 7854 section 4.10: both OPENs as sent and received by the collector.
[[nodiscard]] codec::Status encode_peer_up(const codec::bmp::PerPeerHeader& h, const PeerInfo& peer,
                                           std::span<const std::uint8_t> sent_open,
                                           std::span<const std::uint8_t> received_open,
                                           codec::wire::Writer& w);
// RFC 7854 section 4.9 for a PeerDown record: 1 (we sent the NOTIFICATION), 3 (the peer sent
// it), 2 with FSM event 0 (we closed without one), 4 (the peer closed without one).
[[nodiscard]] codec::Status encode_peer_down(const codec::bmp::PerPeerHeader& h,
                                             const Record& record, codec::wire::Writer& w);
// RFC 7854 section 4.6: one UPDATE, as is.
[[nodiscard]] codec::Status encode_route_monitoring(const codec::bmp::PerPeerHeader& h,
                                                    std::span<const std::uint8_t> update,
                                                    codec::wire::Writer& w);

// What Statistics Reports say of one peer.
struct PeerCounts {
  std::vector<std::pair<codec::bgp::AfiSafi, std::uint64_t>> per_family;
  // UPDATEs byte for byte equal to the peer's UPDATE before, since its Peer Up.
  std::uint32_t duplicate_updates = 0;
  // From the RIB, since the session came up (RibPeer): withdrawals of routes not held, UPDATEs
  // and prefixes treated as withdrawals.
  std::uint64_t unknown_withdrawals = 0;
  std::uint64_t treat_as_withdraw_updates = 0;
  std::uint64_t treat_as_withdraw_prefixes = 0;
  [[nodiscard]] std::uint64_t total() const;
  void add(codec::bgp::AfiSafi f, std::uint64_t n);
};
// RFC 7854 section 4.8: types 0 and 3-6 as 0 (a collector has no inbound policy and does no
// loop detection), 2 (withdrawals of routes not held), 7 (Adj-RIB-In routes), 9 (per family),
// 11 and 12 (UPDATEs and prefixes treated as withdrawals, RFC 7606) and 13 (duplicate
// UPDATEs). Type 1 (duplicate advertisements) is not counted: the RIB does not compare a
// route's attributes with those it replaces.
[[nodiscard]] codec::Status encode_statistics(const codec::bmp::PerPeerHeader& h,
                                              const PeerCounts& counts, codec::wire::Writer& w);

// Packs routes of one peer and one family that share TABLE_DUMP_V2 attributes into UPDATEs for
// the session's context: 4-octet AS_PATH and AGGREGATOR rewritten to 2 octets with AS4_PATH /
// AS4_AGGREGATOR on 2-octet sessions (RFC 6793 section 4.2.2), the abbreviated MP_REACH_NLRI
// (RFC 6396 section 4.3.4) made whole again with the NLRI (RFC 4760), path identifiers where
// ADD-PATH is on (RFC 7911). Consecutive routes with identical attributes share a message.
class TablePacker {
 public:
  using Emit = std::function<void(std::span<const std::uint8_t> update)>;
  TablePacker(codec::bgp::AfiSafi family, const codec::bgp::ParseContext& context, Emit emit);
  void add(const codec::bgp::Prefix& prefix, std::uint32_t path_id,
           std::span<const std::uint8_t> attributes);
  // Emits what is pending.
  void finish();
  // Routes that fit in no message (their attributes alone exceed the maximum size).
  [[nodiscard]] std::uint64_t too_large() const { return too_large_; }

 private:
  void emit_range(std::size_t from, std::size_t to);
  codec::bgp::AfiSafi family_;
  codec::bgp::ParseContext context_;
  Emit emit_;
  std::size_t max_size_;
  std::vector<std::uint8_t> attributes_;
  std::vector<codec::bgp::Prefix> prefixes_;
  std::vector<std::uint32_t> path_ids_;
  std::size_t estimate_ = 0;
  std::uint64_t too_large_ = 0;
  codec::wire::Writer writer_;
};

// Gathers a table's routes by attribute set, so that TablePacker packs them as a router packs
// its Adj-RIB-Out (a real table: ~6 prefixes per UPDATE instead of ~2 when only neighbours in
// prefix order share one). A set is the peer and the address of its attribute bytes: the
// collector's RIB interns them, so one set is one address; equal bytes at two addresses are
// two groups (still packed when they follow each other). Holds at most `capacity` routes;
// drain() before adding more when full().
class TableGrouper {
 public:
  struct Group {
    std::uint16_t peer_index = 0;
    std::span<const std::uint8_t> attributes;
    std::uint32_t routes = 0;
  };
  struct Entry {
    std::uint32_t group = 0;
    std::uint32_t path_id = 0;
    codec::bgp::Prefix prefix{};
  };
  static constexpr std::size_t kDefaultCapacity = std::size_t{2} << 20;
  explicit TableGrouper(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  void add(std::uint16_t peer_index, std::span<const std::uint8_t> attributes,
           const codec::bgp::Prefix& prefix, std::uint32_t path_id);
  [[nodiscard]] bool full() const { return entries_.size() >= capacity_; }
  // Calls f(group, entry) for every route added since the last drain: a group's routes
  // together in the order added, the groups in the order they first appeared. Then empty.
  template <typename F>
  void drain(F&& f) {
    sort();
    for (const auto& e : sorted_) {
      f(groups_[e.group], e);
    }
    clear();
  }

 private:
  // An open-addressing index of the groups (a node-based map cost ~30 % of a 20-table join
  // in allocation and cache misses): linear probing, at most half full, group + 1 (0: free).
  void sort();
  void clear();
  void grow();
  [[nodiscard]] std::size_t slot_of(std::uint16_t peer_index,
                                    std::span<const std::uint8_t> attributes) const;
  std::size_t capacity_;
  std::vector<std::uint32_t> slots_;
  std::vector<Group> groups_;
  std::vector<Entry> entries_;
  std::vector<Entry> sorted_;
};

// Builds one UPDATE announcing `prefixes` with TABLE_DUMP_V2 `attributes` (see TablePacker).
[[nodiscard]] codec::Status build_update(codec::bgp::AfiSafi family,
                                         const codec::bgp::ParseContext& context,
                                         std::span<const std::uint8_t> attributes,
                                         std::span<const codec::bgp::Prefix> prefixes,
                                         std::span<const std::uint32_t> path_ids,
                                         std::size_t max_size, codec::wire::Writer& w);

}  // namespace bgpscribe::exporters::bmp
