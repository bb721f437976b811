// AdjRibIn: every peer's received routes (RFC 4271 section 3.2), for RIB snapshots (MRT
// TABLE_DUMP_V2, BMP, SQL) that agree exactly with the recorded update stream.
//
// Fed on the io thread with each UPDATE as the codec decoded it; keeps per peer and family a
// PrefixTable of interned attribute sets in the TABLE_DUMP_V2 form (what a RIB dump writes),
// keyed by ids of one prefix index per address family shared by every peer.
// RFC 7606 treat-as-withdraw updates withdraw their prefixes. When a session goes down its
// routes go, unless graceful restart keeps a family's routes as stale until the peer's
// End-of-RIB or the restart timer (RFC 4724 section 4.2). snapshot() freezes every table
// without copying: a table is copied only if it changes while a snapshot still holds it.
// Families other than IPv4/IPv6 unicast and multicast are not kept (counted).
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/bgp/update.hpp"
#include "collector/rib/attr_store.hpp"
#include "collector/rib/key_index.hpp"
#include "collector/rib/peer_counters.hpp"
#include "collector/rib/prefix_table.hpp"
#include "exporters/api/record.hpp"
#include "exporters/api/rib_snapshot.hpp"

namespace bgpscribe::collector::rib {

// One family's table of one peer: IPv4 and IPv6 keys live in different tables.
class FamilyTable {
 public:
  FamilyTable(AttrStore& store, KeyIndex<V4Key>& v4_keys, KeyIndex<V6Key>& v6_keys,
              codec::bgp::AfiSafi family);
  FamilyTable(const FamilyTable&) = default;
  FamilyTable& operator=(const FamilyTable&) = delete;

  void announce(const codec::bgp::Prefix& p, std::uint32_t path_id, AttrStore::Id attributes,
                std::uint32_t originated);
  bool withdraw(const codec::bgp::Prefix& p, std::uint32_t path_id);
  bool find(const codec::bgp::Prefix& p, std::vector<Path>& out) const;
  [[nodiscard]] std::size_t route_count() const;
  [[nodiscard]] std::size_t memory() const { return v4_.memory() + v6_.memory(); }
  [[nodiscard]] codec::bgp::AfiSafi family() const { return family_; }
  [[nodiscard]] PrefixTable<V4Key>& v4() { return v4_; }
  [[nodiscard]] const PrefixTable<V4Key>& v4() const { return v4_; }
  [[nodiscard]] const PrefixTable<V6Key>& v6() const { return v6_; }

 private:
  codec::bgp::AfiSafi family_;
  PrefixTable<V4Key> v4_;
  PrefixTable<V6Key> v6_;
};

struct RibStats {
  std::uint64_t updates = 0;
  std::uint64_t announced = 0;
  std::uint64_t withdrawn = 0;
  std::uint64_t withdrawn_unknown = 0;   // withdrawals of routes we did not hold
  std::uint64_t treat_as_withdraw = 0;   // RFC 7606 updates applied as withdrawals
  std::uint64_t unsupported_family = 0;  // NLRI of families not kept
  std::uint64_t snapshots = 0;
  std::uint64_t tables_copied = 0;  // copy-on-write copies made for snapshots
};

// How a RIB query matches its prefix.
enum class Match {
  Exact,         // that prefix
  Longest,       // per peer and family, the longest prefix held that covers it
  MoreSpecific,  // it and every prefix inside it
};

// One route a query found. `attributes` (the TABLE_DUMP_V2 form, as in RibRoute) is valid only
// during the callback.
struct FoundRoute {
  exporters::PeerInfoPtr peer;
  codec::bgp::AfiSafi family{};
  codec::bgp::Prefix prefix{};
  std::uint32_t path_id = 0;
  std::uint32_t originated = 0;  // Unix seconds
  bool stale = false;            // kept by graceful restart
  std::span<const std::uint8_t> attributes;
};

class AdjRibIn {
 public:
  // Snapshots hand their tables back to `io` for release, so that every table and attribute
  // reference is only ever touched on the io thread.
  explicit AdjRibIn(boost::asio::io_context& io);
  ~AdjRibIn();
  AdjRibIn(const AdjRibIn&) = delete;
  AdjRibIn& operator=(const AdjRibIn&) = delete;

  // The session of `peer.id` is Established with these ADD-PATH receive families.
  void session_up(const exporters::PeerInfoPtr& peer, const codec::bgp::ParseContext& context);
  // Applies one UPDATE received at `time_us` (Unix µs).
  void apply(std::uint32_t peer_id, const codec::bgp::Update& update,
             const codec::bgp::ParseContext& context, std::int64_t time_us);
  // The session left Established: its routes go once the current io handler has returned,
  // except the families that graceful_restart_stale() keeps meanwhile.
  void session_down(std::uint32_t peer_id);
  void graceful_restart_stale(std::uint32_t peer_id, codec::bgp::AfiSafi family);
  // End-of-RIB after a restart (Recovered) or timer expiry: drop the routes still stale.
  void graceful_restart_end(std::uint32_t peer_id, codec::bgp::AfiSafi family);
  // The peer is gone for good (removed from the config).
  void remove_peer(std::uint32_t peer_id);

  [[nodiscard]] std::shared_ptr<const exporters::RibSnapshot> snapshot(std::int64_t time_us);

  [[nodiscard]] std::size_t route_count() const;
  [[nodiscard]] std::size_t route_count(std::uint32_t peer_id) const;
  // Routes per family (live and stale) of one peer, families with none left out.
  [[nodiscard]] std::vector<std::pair<codec::bgp::AfiSafi, std::size_t>> family_counts(
      std::uint32_t peer_id) const;
  // Everything counted for one peer; empty when it is not known.
  [[nodiscard]] PeerCounters counters(std::uint32_t peer_id) const;
  // The routes held for `prefix` (its AFI, every SAFI) of the peers `peer_ids` (empty: all),
  // by ascending peer id, then family, prefix and path id. `f` returns false to stop. On the
  // io thread (the live API asks through it): a longest match costs one lookup per prefix
  // length per table, a more-specific one a pass over each table's prefixes.
  void query(const codec::bgp::Prefix& prefix, Match match, std::span<const std::uint32_t> peer_ids,
             const std::function<bool(const FoundRoute&)>& f) const;
  [[nodiscard]] const RibStats& stats() const { return stats_; }
  [[nodiscard]] const AttrStore& attributes() const { return store_; }
  [[nodiscard]] const KeyIndex<V4Key>& v4_keys() const { return v4_keys_; }
  [[nodiscard]] const KeyIndex<V6Key>& v6_keys() const { return v6_keys_; }
  // Approximate bytes held: table storage, prefix indexes and attribute data.
  [[nodiscard]] std::size_t memory() const;

 private:
  struct Family {
    codec::bgp::AfiSafi family{};
    std::shared_ptr<FamilyTable> live;
    std::shared_ptr<FamilyTable> stale;  // graceful restart: routes of the previous session
    std::shared_ptr<FamilyTable> down;   // session just went down, stale() may claim it
    std::uint64_t announced = 0;         // PeerFamilyCounters
    std::uint64_t withdrawn = 0;
  };
  struct PeerRib {
    exporters::PeerInfoPtr info;
    codec::bgp::ParseContext context{};
    std::vector<Family> families;
    bool up = false;
    // Since session_up (RibPeer's counters).
    std::uint64_t unknown_withdrawals = 0;
    std::uint64_t treat_as_withdraw_updates = 0;
    std::uint64_t treat_as_withdraw_prefixes = 0;
    // Since the peer was first seen (PeerCounters).
    std::uint64_t total_unknown_withdrawals = 0;
    std::uint64_t total_treat_as_withdraw_updates = 0;
    std::uint64_t total_treat_as_withdraw_prefixes = 0;
  };
  Family& family(PeerRib& p, codec::bgp::AfiSafi f);
  FamilyTable& writable(Family& f);
  // The stale table, copied first if a snapshot holds it; nullptr when there is none.
  FamilyTable* writable_stale(Family& f);
  void announce(PeerRib& p, codec::bgp::AfiSafi f, const codec::bgp::NlriBlock& nlri,
                AttrStore::Id attributes, std::uint32_t originated);
  // Returns how many routes it withdrew (or was asked to, for a family not kept).
  std::size_t withdraw(PeerRib& p, codec::bgp::AfiSafi f, const codec::bgp::NlriBlock& nlri);

  boost::asio::io_context& io_;
  // Before the tables, which reference them: the tables go first. (Snapshots hand theirs back
  // to io_, which must run them before this object goes; see Collector::~Collector.)
  AttrStore store_;
  // Sized for a full table of today (about 1 M IPv4 and 230 k IPv6 prefixes): 5 and 1.3 MB.
  KeyIndex<V4Key> v4_keys_{1'000'000};
  KeyIndex<V6Key> v6_keys_{250'000};
  std::map<std::uint32_t, PeerRib> peers_;
  std::vector<std::uint8_t> scratch_;
  std::vector<Path> paths_;
  std::vector<std::pair<V4Key, std::uint32_t>> keys_;  // one UPDATE's IPv4 keys and path ids
  RibStats stats_;
};

}  // namespace bgpscribe::collector::rib
