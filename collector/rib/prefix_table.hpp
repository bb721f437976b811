// PrefixTable: one family's routes of one peer, keyed by prefix, each holding an interned
// attribute set and the time it was announced.
//
// Sized for full tables: an IPv4 route costs a 16-byte slot of an open-addressing table (the
// prefix packed into 8 bytes, an attribute id and a time in the other 8); IPv6 a 32-byte one.
// ADD-PATH prefixes keep their paths in a side list instead. Every route owns one reference to
// its attribute set in the AttrStore. Copying a table (copy-on-write for snapshots) copies the
// slots and takes a reference per route.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <span>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/nlri.hpp"
#include "collector/rib/attr_store.hpp"

namespace bgpscribe::collector::rib {

// One path of a prefix.
struct Path {
  std::uint32_t path_id = 0;
  AttrStore::Id attributes = 0;
  std::uint32_t originated = 0;  // Unix seconds
};

struct V4Key {
  std::uint64_t bits = 0;  // address << 8 | length
  friend bool operator==(V4Key, V4Key) = default;
  friend auto operator<=>(V4Key, V4Key) = default;
  template <class H>
  friend H AbslHashValue(H h, V4Key k) {
    return H::combine(std::move(h), k.bits);
  }
};
struct V6Key {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::uint32_t length = 0;
  friend bool operator==(const V6Key&, const V6Key&) = default;
  friend auto operator<=>(const V6Key&, const V6Key&) = default;
  template <class H>
  friend H AbslHashValue(H h, const V6Key& k) {
    return H::combine(std::move(h), k.high, k.low, k.length);
  }
};

V4Key v4_key(const codec::bgp::Prefix& p);
// The key of a decoded IPv4 NLRI, host bits cleared: the hot path of a full table (it skips
// building a Prefix).
inline V4Key v4_key(const codec::bgp::Nlri& n) {
  const std::uint32_t a = (std::uint32_t{n.bytes[0]} << 24) | (std::uint32_t{n.bytes[1]} << 16) |
                          (std::uint32_t{n.bytes[2]} << 8) | n.bytes[3];
  const std::uint32_t mask = n.length == 0 ? 0 : ~std::uint32_t{0} << (32 - n.length);
  return V4Key{(std::uint64_t{a & mask} << 8) | n.length};
}
V6Key v6_key(const codec::bgp::Prefix& p);
codec::bgp::Prefix to_prefix(V4Key k);
codec::bgp::Prefix to_prefix(const V6Key& k);

template <class Key>
class PrefixTable {
 public:
  explicit PrefixTable(AttrStore& store) : store_(&store) {}
  ~PrefixTable() { clear(); }
  PrefixTable(const PrefixTable& other);
  PrefixTable& operator=(const PrefixTable&) = delete;

  // Adds or replaces the path; takes a new reference to `attributes`.
  void announce(const Key& key, std::uint32_t path_id, AttrStore::Id attributes,
                std::uint32_t originated);
  // Removes the path; false when it was not there.
  bool withdraw(const Key& key, std::uint32_t path_id);
  void clear();
  // Starts loading the memory `key` hashes to: a full table misses the cache on almost every
  // insert, and an UPDATE's prefixes are known ahead.
  void prefetch(const Key& key) const { map_.prefetch(key); }

  [[nodiscard]] std::size_t route_count() const { return routes_; }
  [[nodiscard]] std::size_t prefix_count() const { return map_.size(); }
  // Appends the paths of `key` to `out` (by ascending path id); false when none.
  bool find(const Key& key, std::vector<Path>& out) const;
  template <class F>
  void for_each_key(F&& f) const {
    for (const auto& kv : map_) {
      f(kv.first);
    }
  }
  // Bytes used by the table's own storage (slots and ADD-PATH lists), for the stats.
  [[nodiscard]] std::size_t memory() const;

 private:
  // One path with id 0 inline; otherwise `attributes` has kMulti set and indexes multi_.
  struct Slot {
    std::uint32_t attributes = 0;
    std::uint32_t originated = 0;
  };
  static constexpr std::uint32_t kMulti = 0x80000000U;
  void release(const Slot& s);

  AttrStore* store_;
  absl::flat_hash_map<Key, Slot> map_;
  std::vector<std::vector<Path>> multi_;
  std::vector<std::uint32_t> multi_free_;
  std::size_t routes_ = 0;
};

extern template class PrefixTable<V4Key>;
extern template class PrefixTable<V6Key>;

}  // namespace bgpscribe::collector::rib
