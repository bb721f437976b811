// PrefixTable: one family's routes of one peer, each holding an interned attribute set and the
// time it was announced, keyed by the prefix's id in the KeyIndex shared by every table.
//
// Sized for full tables: a table that holds at least half of the index's ids is an array of
// 8-byte slots (an attribute id and a time) indexed by id, so a route of a full table costs
// about 8 bytes; a smaller table is a hash map of ids (12-byte slots). ADD-PATH prefixes keep
// their paths in a side list instead. Every route owns one reference to its attribute set in
// the AttrStore, and the table one reference per prefix to its key id. Copying a table
// (copy-on-write for snapshots) copies the slots and takes those references again. Only the io
// thread changes a table or looks a key up; a snapshot reader may use find_id() and
// for_each_id() on a table that nobody changes any more.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/nlri.hpp"
#include "collector/rib/attr_store.hpp"
#include "collector/rib/key_index.hpp"

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
  using Index = KeyIndex<Key>;

  PrefixTable(AttrStore& store, Index& index) : store_(&store), index_(&index) {}
  ~PrefixTable() { clear(); }
  PrefixTable(const PrefixTable& other);
  PrefixTable& operator=(const PrefixTable&) = delete;

  // Adds or replaces the path; takes a new reference to `attributes`.
  void announce(const Key& key, std::uint32_t path_id, AttrStore::Id attributes,
                std::uint32_t originated);
  // Removes the path; false when it was not there.
  bool withdraw(const Key& key, std::uint32_t path_id);
  // Releases every route and returns to the hash map.
  void clear();
  // Starts loading the memory `key` hashes to in the index: a full table misses the cache on
  // almost every insert, and an UPDATE's prefixes are known ahead.
  void prefetch(const Key& key) const { index_->prefetch(key); }

  [[nodiscard]] std::size_t route_count() const { return routes_; }
  [[nodiscard]] std::size_t prefix_count() const { return prefixes_; }
  // Appends the paths of `key` to `out` (by ascending path id); false when none.
  bool find(const Key& key, std::vector<Path>& out) const;
  // The same by key id, without the index (snapshot readers).
  bool find_id(std::uint32_t id, std::vector<Path>& out) const;
  // Calls f(id) for every prefix held, in no particular order.
  template <class F>
  void for_each_id(F&& f) const {
    for_each_slot([&](std::uint32_t id, const Slot&) { f(id); });
  }
  // Whether the slots are the array indexed by id (else the hash map).
  [[nodiscard]] bool dense() const { return dense_mode_; }
  // Bytes used by the table's own storage (slots and ADD-PATH lists), for the stats.
  [[nodiscard]] std::size_t memory() const;

 private:
  // One path with id 0 inline; otherwise `attributes` has kMulti set and indexes multi_. An
  // array slot with attributes 0 is empty.
  struct Slot {
    std::uint32_t attributes = 0;
    std::uint32_t originated = 0;
  };
  static constexpr std::uint32_t kMulti = 0x80000000U;
  // Tables smaller than this stay hash maps whatever the id range.
  static constexpr std::size_t kDenseMin = 256;
  using Sparse = absl::flat_hash_map<std::uint32_t, Slot>;

  // The array is cut in blocks of 4,096 slots (32 KiB), allocated as ids reach them: it grows
  // with the index without copying (a vector would copy itself on every growth, or double).
  static constexpr std::size_t kBlockBits = 12;
  static constexpr std::size_t kBlockSize = std::size_t{1} << kBlockBits;
  using Block = std::unique_ptr<Slot[]>;

  template <class F>
  void for_each_slot(F&& f) const {
    if (dense_mode_) {
      for (std::size_t b = 0; b < dense_.size(); ++b) {
        if (!dense_[b]) {
          continue;
        }
        for (std::size_t i = 0; i < kBlockSize; ++i) {
          if (dense_[b][i].attributes != 0) {
            f(static_cast<std::uint32_t>((b << kBlockBits) | i), dense_[b][i]);
          }
        }
      }
    } else {
      for (const auto& [id, s] : sparse_) {
        f(id, s);
      }
    }
  }

  // The array's slot of `id`, held or empty; nullptr when its block is not there.
  [[nodiscard]] Slot* dense_slot(std::uint32_t id) const {
    const std::size_t b = id >> kBlockBits;
    return b < dense_.size() && dense_[b] ? &dense_[b][id & (kBlockSize - 1)] : nullptr;
  }
  [[nodiscard]] const Slot* slot(std::uint32_t id) const {
    if (dense_mode_) {
      const Slot* s = dense_slot(id);
      return s != nullptr && s->attributes != 0 ? s : nullptr;
    }
    auto it = sparse_.find(id);
    return it == sparse_.end() ? nullptr : &it->second;
  }
  [[nodiscard]] Slot* slot(std::uint32_t id) {
    if (dense_mode_) {
      Slot* s = dense_slot(id);
      return s != nullptr && s->attributes != 0 ? s : nullptr;
    }
    auto it = sparse_.find(id);
    return it == sparse_.end() ? nullptr : &it->second;
  }
  // An empty slot for `id`, which the table does not hold; may change the representation.
  Slot& insert_slot(std::uint32_t id);
  // The array's slot of `id`, its block allocated if need be.
  Slot& insert_dense(std::uint32_t id);
  void erase_slot(std::uint32_t id);
  void to_dense();
  void to_sparse();

  AttrStore* store_;
  Index* index_;
  Sparse sparse_;
  std::vector<Block> dense_;
  bool dense_mode_ = false;
  std::size_t prefixes_ = 0;
  std::vector<std::vector<Path>> multi_;
  std::vector<std::uint32_t> multi_free_;
  std::size_t routes_ = 0;
};

extern template class PrefixTable<V4Key>;
extern template class PrefixTable<V6Key>;

}  // namespace bgpscribe::collector::rib
