#include "collector/rib/adj_rib_in.hpp"

#include "codec/mrt/table_dump.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/attributes.hpp"

namespace bgpscribe::collector::rib {

namespace bgp = codec::bgp;

namespace {

// The prefixes held by any of `tables`, as (key, id) in ascending key order. Works by id, on
// the snapshot's thread: the index's map belongs to the io thread, but the key of an id that a
// held table references never changes.
template <class Key, class Get>
std::vector<std::pair<Key, std::uint32_t>> union_of_keys(
    const std::vector<const FamilyTable*>& tables, const KeyIndex<Key>& index, Get get) {
  std::vector<bool> seen;
  std::vector<std::pair<Key, std::uint32_t>> keys;
  std::size_t hint = 0;
  for (const auto* t : tables) {
    hint = std::max(hint, get(*t).prefix_count());
  }
  keys.reserve(hint);
  for (const auto* t : tables) {
    get(*t).for_each_id([&](std::uint32_t id) {
      if (id >= seen.size()) {
        seen.resize(std::max<std::size_t>(id + 1, 2 * seen.size()));
      }
      if (!seen[id]) {
        seen[id] = true;
        keys.emplace_back(index.key(id), id);
      }
    });
  }
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return keys;
}

// The frozen tables of every peer. Tables go back to the io thread to be released, because
// releasing them unreferences attribute sets, which only the io thread may do.
class Snapshot final : public exporters::RibSnapshot {
 public:
  struct Tables {
    bgp::AfiSafi family{};
    std::shared_ptr<FamilyTable> live;
    std::shared_ptr<FamilyTable> stale;
  };

  Snapshot(boost::asio::io_context& io, const AttrStore& store, const KeyIndex<V4Key>& v4_keys,
           const KeyIndex<V6Key>& v6_keys, std::int64_t time_us)
      : io_(io), store_(store), v4_keys_(v4_keys), v6_keys_(v6_keys), time_us_(time_us) {}
  ~Snapshot() override {
    boost::asio::post(io_, [t = std::move(tables_)]() mutable { t.clear(); });
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  void add_peer(exporters::RibPeer peer, std::vector<Tables> tables) {
    for (const auto& t : tables) {
      routes_ += (t.live ? t.live->route_count() : 0) + (t.stale ? t.stale->route_count() : 0);
    }
    peers_.push_back(std::move(peer));
    tables_.push_back(std::move(tables));
  }

  [[nodiscard]] std::int64_t time_us() const override { return time_us_; }
  [[nodiscard]] const std::vector<exporters::RibPeer>& peers() const override { return peers_; }
  [[nodiscard]] std::size_t route_count() const override { return routes_; }

  [[nodiscard]] std::vector<bgp::AfiSafi> families() const override {
    std::vector<bgp::AfiSafi> out;
    for (const auto& f : exporters::kRecordFamilies) {
      for (const auto& peer : tables_) {
        const bool has = std::any_of(peer.begin(), peer.end(), [&](const Tables& t) {
          return t.family == f &&
                 ((t.live && t.live->route_count() > 0) || (t.stale && t.stale->route_count() > 0));
        });
        if (has) {
          out.push_back(f);
          break;
        }
      }
    }
    return out;
  }

  void for_each_prefix(
      bgp::AfiSafi family,
      const std::function<void(const bgp::Prefix&, std::span<const exporters::RibRoute>)>& f)
      const override {
    // Per peer, the live table and the stale one (a prefix re-learned after a restart is
    // only in the live one).
    std::vector<const FamilyTable*> live(peers_.size(), nullptr);
    std::vector<const FamilyTable*> stale(peers_.size(), nullptr);
    std::vector<const FamilyTable*> all;
    for (std::size_t i = 0; i < tables_.size(); ++i) {
      for (const auto& t : tables_[i]) {
        if (t.family == family) {
          live[i] = t.live.get();
          stale[i] = t.stale.get();
        }
      }
      for (const auto* t : {live[i], stale[i]}) {
        if (t != nullptr) {
          all.push_back(t);
        }
      }
    }
    if (all.empty()) {
      return;
    }
    std::vector<exporters::RibRoute> routes;
    std::vector<Path> paths;
    auto visit = [&](const bgp::Prefix& prefix, auto find) {
      routes.clear();
      for (std::size_t i = 0; i < peers_.size(); ++i) {
        paths.clear();
        if (!(live[i] != nullptr && find(*live[i], paths)) && stale[i] != nullptr) {
          find(*stale[i], paths);
        }
        for (const auto& p : paths) {
          routes.push_back(exporters::RibRoute{static_cast<std::uint16_t>(i), p.path_id,
                                               p.originated, store_.bytes(p.attributes)});
        }
      }
      if (!routes.empty()) {
        f(prefix, routes);
      }
    };
    if (family.afi == bgp::Afi::Ipv4) {
      // (Not a structured binding: clang before 16 cannot capture one.)
      for (const auto& key : union_of_keys<V4Key>(
               all, v4_keys_, [](const FamilyTable& t) -> const auto& { return t.v4(); })) {
        const std::uint32_t id = key.second;
        visit(to_prefix(key.first), [id](const FamilyTable& t, std::vector<Path>& out) {
          return t.v4().find_id(id, out);
        });
      }
    } else {
      for (const auto& key : union_of_keys<V6Key>(
               all, v6_keys_, [](const FamilyTable& t) -> const auto& { return t.v6(); })) {
        const std::uint32_t id = key.second;
        visit(to_prefix(key.first), [id](const FamilyTable& t, std::vector<Path>& out) {
          return t.v6().find_id(id, out);
        });
      }
    }
  }

 private:
  boost::asio::io_context& io_;
  const AttrStore& store_;
  const KeyIndex<V4Key>& v4_keys_;
  const KeyIndex<V6Key>& v6_keys_;
  std::int64_t time_us_;
  std::size_t routes_ = 0;
  std::vector<exporters::RibPeer> peers_;
  std::vector<std::vector<Tables>> tables_;
};

}  // namespace

// ---- FamilyTable ------------------------------------------------------------------------------

FamilyTable::FamilyTable(AttrStore& store, KeyIndex<V4Key>& v4_keys, KeyIndex<V6Key>& v6_keys,
                         bgp::AfiSafi family)
    : family_(family), v4_(store, v4_keys), v6_(store, v6_keys) {}

void FamilyTable::announce(const bgp::Prefix& p, std::uint32_t path_id, AttrStore::Id attributes,
                           std::uint32_t originated) {
  if (p.address.is_v4()) {
    v4_.announce(v4_key(p), path_id, attributes, originated);
  } else {
    v6_.announce(v6_key(p), path_id, attributes, originated);
  }
}

bool FamilyTable::withdraw(const bgp::Prefix& p, std::uint32_t path_id) {
  return p.address.is_v4() ? v4_.withdraw(v4_key(p), path_id) : v6_.withdraw(v6_key(p), path_id);
}

bool FamilyTable::find(const bgp::Prefix& p, std::vector<Path>& out) const {
  return p.address.is_v4() ? v4_.find(v4_key(p), out) : v6_.find(v6_key(p), out);
}

std::size_t FamilyTable::route_count() const {
  return v4_.route_count() + v6_.route_count();
}

// ---- AdjRibIn ---------------------------------------------------------------------------------

AdjRibIn::AdjRibIn(boost::asio::io_context& io) : io_(io) {}

AdjRibIn::~AdjRibIn() = default;

AdjRibIn::Family& AdjRibIn::family(PeerRib& p, bgp::AfiSafi f) {
  for (auto& fam : p.families) {
    if (fam.family == f) {
      return fam;
    }
  }
  p.families.push_back(Family{f, nullptr, nullptr, nullptr, 0, 0});
  return p.families.back();
}

FamilyTable& AdjRibIn::writable(Family& f) {
  if (!f.live) {
    f.live = std::make_shared<FamilyTable>(store_, v4_keys_, v6_keys_, f.family);
  } else if (f.live.use_count() > 1) {
    // A snapshot holds this table: it keeps the old one, we go on with a copy.
    f.live = std::make_shared<FamilyTable>(*f.live);
    ++stats_.tables_copied;
  }
  return *f.live;
}

FamilyTable* AdjRibIn::writable_stale(Family& f) {
  if (!f.stale) {
    return nullptr;
  }
  if (f.stale.use_count() > 1) {
    f.stale = std::make_shared<FamilyTable>(*f.stale);
    ++stats_.tables_copied;
  }
  return f.stale.get();
}

void AdjRibIn::session_up(const exporters::PeerInfoPtr& peer, const bgp::ParseContext& context) {
  auto& p = peers_[peer->id];
  p.info = peer;
  p.context = context;
  p.up = true;
  p.unknown_withdrawals = 0;
  p.treat_as_withdraw_updates = 0;
  p.treat_as_withdraw_prefixes = 0;
}

void AdjRibIn::announce(PeerRib& p, bgp::AfiSafi f, const bgp::NlriBlock& nlri,
                        AttrStore::Id attributes, std::uint32_t originated) {
  if (nlri.empty()) {
    return;
  }
  if (!bgp::is_plain_prefix_family(f)) {
    ++stats_.unsupported_family;
    return;
  }
  Family& fam = family(p, f);
  FamilyTable& table = writable(fam);
  FamilyTable* stale = writable_stale(fam);
  if (f.afi == bgp::Afi::Ipv4) {
    // Most of a full table: keys straight from the NLRI bytes, each key's place in the prefix
    // index prefetched a few routes ahead of its insert.
    keys_.clear();
    for (const auto& n : nlri) {
      keys_.emplace_back(v4_key(n), n.path_id);
    }
    constexpr std::size_t kAhead = 8;
    auto& v4 = table.v4();
    for (std::size_t i = 0; i < keys_.size() && i < kAhead; ++i) {
      v4.prefetch(keys_[i].first);
    }
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (i + kAhead < keys_.size()) {
        v4.prefetch(keys_[i + kAhead].first);
      }
      v4.announce(keys_[i].first, keys_[i].second, attributes, originated);
      if (stale != nullptr) {
        stale->v4().withdraw(keys_[i].first, keys_[i].second);
      }
    }
    stats_.announced += keys_.size();
    fam.announced += keys_.size();
    return;
  }
  for (const auto& n : nlri) {
    const bgp::Prefix prefix = n.prefix();
    table.announce(prefix, n.path_id, attributes, originated);
    if (stale != nullptr) {
      stale->withdraw(prefix, n.path_id);
    }
    ++stats_.announced;
    ++fam.announced;
  }
}

std::size_t AdjRibIn::withdraw(PeerRib& p, bgp::AfiSafi f, const bgp::NlriBlock& nlri) {
  if (nlri.empty()) {
    return 0;
  }
  if (!bgp::is_plain_prefix_family(f)) {
    ++stats_.unsupported_family;
    return 0;
  }
  std::size_t count = 0;
  Family& fam = family(p, f);
  FamilyTable* stale = writable_stale(fam);
  FamilyTable& table = writable(fam);
  for (const auto& n : nlri) {
    const bgp::Prefix prefix = n.prefix();
    bool removed = table.withdraw(prefix, n.path_id);
    if (stale != nullptr) {
      removed = stale->withdraw(prefix, n.path_id) || removed;
    }
    ++(removed ? stats_.withdrawn : stats_.withdrawn_unknown);
    p.unknown_withdrawals += removed ? 0 : 1;
    ++count;
  }
  return count;
}

void AdjRibIn::apply(std::uint32_t peer_id, const bgp::Update& update,
                     const bgp::ParseContext& context, std::int64_t time_us) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end() || !it->second.up) {
    return;
  }
  PeerRib& p = it->second;
  ++stats_.updates;
  const auto& attrs = update.attributes;
  // The peer's own withdrawals are counted here, not in withdraw(): treat-as-withdraw uses it too.
  const auto unknown_before = p.unknown_withdrawals;
  if (const auto n = withdraw(p, bgp::kIpv4Unicast, update.withdrawn); n > 0) {
    family(p, bgp::kIpv4Unicast).withdrawn += n;
  }
  if (attrs.has(bgp::AttributeType::MpUnreachNlri)) {
    const auto& mp = attrs.mp_unreach;
    if (const auto n = withdraw(p, mp.family, mp.withdrawn); n > 0) {
      family(p, mp.family).withdrawn += n;
    }
  }
  p.total_unknown_withdrawals += p.unknown_withdrawals - unknown_before;
  if (!update.has_announcements()) {
    return;
  }
  const bool has_mp = attrs.has(bgp::AttributeType::MpReachNlri);
  if (update.reaction() == codec::Reaction::TreatAsWithdraw) {
    // RFC 7606 section 2: the routes of a malformed update are withdrawn. Those not held are
    // no duplicate withdrawal of the peer's (BMP type 2): its count stays.
    ++stats_.treat_as_withdraw;
    ++p.treat_as_withdraw_updates;
    ++p.total_treat_as_withdraw_updates;
    const auto unknown = p.unknown_withdrawals;
    std::size_t prefixes = withdraw(p, bgp::kIpv4Unicast, update.nlri);
    if (has_mp) {
      prefixes += withdraw(p, attrs.mp_reach.family, attrs.mp_reach.nlri);
    }
    p.treat_as_withdraw_prefixes += prefixes;
    p.total_treat_as_withdraw_prefixes += prefixes;
    p.unknown_withdrawals = unknown;
    return;
  }
  scratch_.clear();
  codec::mrt::rib_entry_attributes(attrs, context, scratch_);
  const AttrStore::Id id = store_.intern(scratch_);
  const auto originated = static_cast<std::uint32_t>(time_us / 1'000'000);
  announce(p, bgp::kIpv4Unicast, update.nlri, id, originated);
  if (has_mp) {
    announce(p, attrs.mp_reach.family, attrs.mp_reach.nlri, id, originated);
  }
  store_.unref(id);
}

void AdjRibIn::session_down(std::uint32_t peer_id) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) {
    return;
  }
  it->second.up = false;
  for (auto& f : it->second.families) {
    f.down = std::move(f.live);
  }
  // Graceful restart claims its families in the same io handler (Peer reports the state
  // change first, then the stale families); whatever is unclaimed goes afterwards.
  boost::asio::post(io_, [this, peer_id] {
    auto p = peers_.find(peer_id);
    if (p == peers_.end()) {
      return;
    }
    for (auto& f : p->second.families) {
      f.down.reset();
    }
  });
}

void AdjRibIn::graceful_restart_stale(std::uint32_t peer_id, bgp::AfiSafi family) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) {
    return;
  }
  Family& f = this->family(it->second, family);
  if (f.down) {
    // A restart during a restart: the routes of the last session are the ones to keep.
    f.stale = std::move(f.down);
  }
}

void AdjRibIn::graceful_restart_end(std::uint32_t peer_id, bgp::AfiSafi family) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) {
    return;
  }
  this->family(it->second, family).stale.reset();
}

void AdjRibIn::remove_peer(std::uint32_t peer_id) {
  peers_.erase(peer_id);
}

std::shared_ptr<const exporters::RibSnapshot> AdjRibIn::snapshot(std::int64_t time_us) {
  auto snap = std::make_shared<Snapshot>(io_, store_, v4_keys_, v6_keys_, time_us);
  for (auto& [id, p] : peers_) {
    std::vector<Snapshot::Tables> tables;
    for (auto& f : p.families) {
      if ((f.live && f.live->route_count() > 0) || (f.stale && f.stale->route_count() > 0)) {
        tables.push_back(Snapshot::Tables{f.family, f.live, f.stale});
      }
    }
    if (!p.up && tables.empty()) {
      continue;
    }
    exporters::RibPeer peer;
    peer.info = p.info;
    peer.unknown_withdrawals = p.unknown_withdrawals;
    peer.treat_as_withdraw_updates = p.treat_as_withdraw_updates;
    peer.treat_as_withdraw_prefixes = p.treat_as_withdraw_prefixes;
    for (const auto& f : exporters::kRecordFamilies) {
      if (p.context.add_path(f)) {
        peer.add_path.push_back(f);
      }
    }
    snap->add_peer(std::move(peer), std::move(tables));
  }
  ++stats_.snapshots;
  return snap;
}

std::size_t AdjRibIn::route_count() const {
  std::size_t n = 0;
  for (const auto& [id, p] : peers_) {
    (void)id;
    for (const auto& f : p.families) {
      n += (f.live ? f.live->route_count() : 0) + (f.stale ? f.stale->route_count() : 0);
    }
  }
  return n;
}

std::size_t AdjRibIn::route_count(std::uint32_t peer_id) const {
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) {
    return 0;
  }
  std::size_t n = 0;
  for (const auto& f : it->second.families) {
    n += (f.live ? f.live->route_count() : 0) + (f.stale ? f.stale->route_count() : 0);
  }
  return n;
}

std::vector<std::pair<bgp::AfiSafi, std::size_t>> AdjRibIn::family_counts(
    std::uint32_t peer_id) const {
  std::vector<std::pair<bgp::AfiSafi, std::size_t>> out;
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) {
    return out;
  }
  for (const auto& f : it->second.families) {
    const std::size_t n =
        (f.live ? f.live->route_count() : 0) + (f.stale ? f.stale->route_count() : 0);
    if (n > 0) {
      out.emplace_back(f.family, n);
    }
  }
  return out;
}

PeerCounters AdjRibIn::counters(std::uint32_t peer_id) const {
  PeerCounters out;
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) {
    return out;
  }
  const PeerRib& p = it->second;
  for (const auto& f : p.families) {
    const std::size_t n =
        (f.live ? f.live->route_count() : 0) + (f.stale ? f.stale->route_count() : 0);
    out.families.push_back(PeerFamilyCounters{f.family, n, f.announced, f.withdrawn});
  }
  out.withdrawn_unknown = p.total_unknown_withdrawals;
  out.treat_as_withdraw_updates = p.total_treat_as_withdraw_updates;
  out.treat_as_withdraw_prefixes = p.total_treat_as_withdraw_prefixes;
  return out;
}

namespace {

// `p` cut to its first `length` bits.
bgp::Prefix truncated(const bgp::Prefix& p, std::uint8_t length) {
  bgp::Prefix out{p.address, length};
  for (std::size_t i = 0; i < out.address.bytes.size(); ++i) {
    const std::size_t first_bit = i * 8;
    if (first_bit >= length) {
      out.address.bytes[i] = 0;
    } else if (first_bit + 8 > length) {
      out.address.bytes[i] &= static_cast<std::uint8_t>(0xFF00U >> (length - first_bit));
    }
  }
  return out;
}

}  // namespace

void AdjRibIn::query(const bgp::Prefix& prefix, Match match,
                     std::span<const std::uint32_t> peer_ids,
                     const std::function<bool(const FoundRoute&)>& f) const {
  std::vector<Path> paths;
  FoundRoute route;
  // The paths of `p` in `table`; false when `f` asked to stop.
  const auto emit = [&](const FamilyTable& table, const bgp::Prefix& p, bool stale) {
    paths.clear();
    if (!table.find(p, paths)) {
      return true;
    }
    route.prefix = p;
    route.stale = stale;
    for (const auto& path : paths) {
      route.path_id = path.path_id;
      route.originated = path.originated;
      route.attributes = store_.bytes(path.attributes);
      if (!f(route)) {
        return false;
      }
    }
    return true;
  };
  // A prefix re-learned after a restart is in the live table only: the stale one is asked only
  // when the live one does not have it (as snapshots do).
  const auto has = [&](const Family& fam, const bgp::Prefix& p) {
    paths.clear();
    return (fam.live && fam.live->find(p, paths)) || (fam.stale && fam.stale->find(p, paths));
  };
  const auto emit_either = [&](const Family& fam, const bgp::Prefix& p) {
    paths.clear();
    if (fam.live && fam.live->find(p, paths)) {
      return emit(*fam.live, p, false);
    }
    return fam.stale ? emit(*fam.stale, p, true) : true;
  };
  const std::uint8_t bits = prefix.address.is_v4() ? 32 : 128;
  for (const auto& [id, peer] : peers_) {
    if (!peer_ids.empty() && std::find(peer_ids.begin(), peer_ids.end(), id) == peer_ids.end()) {
      continue;
    }
    route.peer = peer.info;
    for (const auto& fam : peer.families) {
      if (fam.family.afi != prefix.address.family) {
        continue;
      }
      route.family = fam.family;
      if (match == Match::Exact) {
        if (!emit_either(fam, prefix)) {
          return;
        }
      } else if (match == Match::Longest) {
        for (int len = std::min<int>(prefix.length, bits); len >= 0; --len) {
          const auto p = truncated(prefix, static_cast<std::uint8_t>(len));
          if (has(fam, p)) {
            if (!emit_either(fam, p)) {
              return;
            }
            break;
          }
        }
      } else {
        // Every prefix of the live and the stale table inside `prefix`, in order.
        std::vector<bgp::Prefix> found;
        for (const auto* t : {fam.live.get(), fam.stale.get()}) {
          if (t == nullptr) {
            continue;
          }
          if (prefix.address.is_v4()) {
            t->v4().for_each_id([&](std::uint32_t key) {
              const auto p = to_prefix(v4_keys_.key(key));
              if (prefix.covers(p)) {
                found.push_back(p);
              }
            });
          } else {
            t->v6().for_each_id([&](std::uint32_t key) {
              const auto p = to_prefix(v6_keys_.key(key));
              if (prefix.covers(p)) {
                found.push_back(p);
              }
            });
          }
        }
        std::sort(found.begin(), found.end());
        found.erase(std::unique(found.begin(), found.end()), found.end());
        for (const auto& p : found) {
          if (!emit_either(fam, p)) {
            return;
          }
        }
      }
    }
  }
}

std::size_t AdjRibIn::memory() const {
  std::size_t n = store_.data_bytes() + v4_keys_.memory() + v6_keys_.memory();
  for (const auto& [id, p] : peers_) {
    (void)id;
    for (const auto& f : p.families) {
      for (const auto* t : {f.live.get(), f.stale.get(), f.down.get()}) {
        if (t != nullptr) {
          n += t->memory();
        }
      }
    }
  }
  return n;
}

}  // namespace bgpscribe::collector::rib
